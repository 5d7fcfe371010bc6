/**
 * What templates are told about the build path a command builds or observes with: the render
 * context's `build_features`. It must come from the engine actually used, and before anything is
 * rendered: a template that uses it renders other text, hence another fingerprint, per build path.
 */
import { NO_ENGINE, type BuildFeatures } from '../core/family.js';
import type { EngineInfo } from '../run/ports.js';
import { detectEngineEarly, type ObserveSettings } from './observe-family.js';

/**
 * The features of a detected engine. Cache mounts: BuildKit's (buildx, or built into a 20.10-22.x
 * client). The legacy builder has none. podman 4.3's buildah has them too (checked on this project's
 * hosts), but the shipped macros are not verified there yet, so buildah keeps today's commands.
 */
export function buildFeaturesOf(info: EngineInfo): BuildFeatures {
  return {
    cacheMounts: info.buildPath === 'buildx' || info.buildPath === 'buildkit',
    buildPath: info.buildPath,
  };
}

/**
 * The engine's detection started (once: the observation takes the same one, `detecting`) and the
 * features of the engine it finds; NO_ENGINE when none answers (the observation then says so).
 */
export async function withBuildFeatures<S extends ObserveSettings>(
  settings: S,
): Promise<{ settings: S; features: BuildFeatures }> {
  if (settings.use) return { settings, features: buildFeaturesOf(settings.use.info) };
  const detecting = settings.detecting ?? detectEngineEarly(settings);
  const detected = await detecting;
  return {
    settings: { ...settings, detecting },
    features: detected.ok ? buildFeaturesOf(detected.value.info) : NO_ENGINE,
  };
}
