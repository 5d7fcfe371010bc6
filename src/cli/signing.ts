/**
 * Which key a build signs with, and the run's signing settings: `--sign-key FILE` (relative to
 * the working directory), else the file `KBUILD_SIGN_KEY` names, else `signing.key` of the
 * profile or kbuild.yaml (relative to the project root). The key is opened before anything is
 * built, so a wrong key or passphrase costs nothing.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { SignedLayersFile } from '../adapters/cache/signed-layers.js';
import type { Profile, ProjectConfig, SigningConfig } from '../core/model.js';
import type { RegistryView } from '../run/build/registry-view.js';
import type { ListSigner } from '../run/publish-platforms.js';
import type { SbomTool } from '../core/packages/sbom.js';
import type { SigningSettings } from '../run/build/context.js';
import { UsageError, type Io } from './io.js';

/** The environment variable that may name the key file (a CI secret mounted as a file). */
export const SIGN_KEY_ENV = 'KBUILD_SIGN_KEY';

/** Where the key comes from, for messages. */
function keyChoice(
  io: Io,
  flag: string | undefined,
  root: string,
  project: ProjectConfig,
  profile: Profile,
): { file: string; from: string; config?: SigningConfig } | undefined {
  if (flag) return { file: resolve(io.cwd, flag), from: '--sign-key' };
  const env = io.env[SIGN_KEY_ENV];
  if (env) return { file: resolve(io.cwd, env), from: SIGN_KEY_ENV };
  const config = profile.signing ?? project.signing;
  if (!config) return undefined;
  const where = profile.signing ? profile.file : project.file || 'kbuild.yaml';
  return {
    file: isAbsolute(config.key) ? config.key : resolve(root, config.key),
    from: `signing.key of ${where}`,
    config,
  };
}

/**
 * The signing settings of a build, or undefined when it signs nothing. `--sign-key` without
 * `--push` is a usage error (nothing would be published to sign); a key from the environment or
 * the configuration applies only to builds that push.
 */
export async function signingFor(
  io: Io,
  opts: {
    readonly flag: string | undefined;
    readonly push: boolean;
    readonly root: string;
    readonly project: ProjectConfig;
    readonly profile: Profile;
    readonly patterns: readonly string[];
  },
): Promise<(SigningSettings & { readonly signed: SignedLayersFile }) | undefined> {
  if (opts.flag && !opts.push)
    throw new UsageError(
      '--sign-key signs the images --push publishes (by their registry digest): add --push',
    );
  if (!opts.push) return undefined;
  const choice = keyChoice(io, opts.flag, opts.root, opts.project, opts.profile);
  if (!choice) return undefined;
  const { loadSigningKey } = await import('../adapters/signing/keys.js');
  const signer = await loadSigningKey(choice.file, {
    env: io.env,
    ...(choice.config?.passphraseEnv ? { passphraseEnv: choice.config.passphraseEnv } : {}),
  });
  if (!signer.ok) throw new UsageError(`${signer.error.message} (the key of ${choice.from})`);
  const { gitStateOf } = await import('../adapters/git-snapshot.js');
  const { openSignedLayers } = await import('../adapters/cache/signed-layers.js');
  return {
    signer: signer.value,
    tool: await kbuildTool(),
    git: await gitStateOf(opts.root),
    selection: opts.patterns,
    signed: openSignedLayers(opts.root, signer.value.keyFingerprint),
  };
}

/** kbuild's own name and version, as package.json says (the same from src/ and dist/): the tool SBOMs and provenance name. */
export async function kbuildTool(): Promise<SbomTool> {
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
  const pkg = JSON.parse(text) as { name?: string; version?: string };
  return { name: pkg.name ?? 'kbuild', version: pkg.version ?? '' };
}

/**
 * Several platforms: each platform's image was signed and attested when it was pushed; each
 * manifest list is signed, and attested with its platforms' statements, once it is stored by
 * digest and before its tags move (publishPlatforms calls this).
 */
export function listSigner(registry: RegistryView, signing: SigningSettings): ListSigner {
  return async (list, signal) => {
    const { signList } = await import('../run/sign/sign-list.js');
    const r = await signList(
      registry.client,
      { registry: registry.host, repository: list.repository, digest: list.digest },
      list.platforms,
      signing.signer,
      signal,
    );
    return r.ok ? undefined : r.error.message;
  };
}
