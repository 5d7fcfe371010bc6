/** How a run's outcome updates the stored state. */
import type { ImageIdentity } from './build.js';
import type { Observed } from './observe.js';
import type { ImageState, StateFile } from './ports.js';
import type { RunSummary } from './summary.js';

/** The state after a run: every image that ended well gets its fingerprint and record. */
export function stateAfterRun(
  before: StateFile,
  summary: RunSummary,
  observed: Observed,
  registry: string,
): StateFile {
  const images: Record<string, ImageState> = { ...before.images };
  for (const i of summary.images) {
    const fp = observed.fingerprints.get(i.name);
    if (!fp || !i.imageId || !['built', 'pushed', 'fresh', 'retagged'].includes(i.status)) continue;
    const prev = before.images[i.name];
    const pushed = i.digest
      ? { registry, digest: i.digest }
      : prev?.fingerprint === fp.fingerprint && prev.digest
        ? { registry: prev.registry, digest: prev.digest }
        : {};
    const seconds = i.status === 'built' || i.status === 'pushed' ? i.buildSeconds : prev?.seconds;
    const testPassed =
      i.test === 'passed' || (prev?.fingerprint === fp.fingerprint && prev.testPassed === true);
    images[i.name] = {
      fingerprint: fp.fingerprint,
      record: fp.record,
      imageId: i.imageId,
      ...pushed,
      ...(seconds != null ? { seconds } : {}),
      ...(testPassed ? { testPassed } : {}),
    };
  }
  return { ...before, images };
}

/** What a run needs to know of each image from the observation and the stored state. */
export function imageIdentity(
  observed: Observed,
  state: StateFile,
  registry: string,
): ImageIdentity {
  return {
    fpRef: observed.fpRef,
    fingerprint: (n) => observed.fingerprints.get(n)!.fingerprint,
    localId: (n) => observed.local.get(observed.fpRef(n))?.id,
    remoteDigest: (n) => observed.remoteDigests.get(n),
    // Pushed before, with this very fingerprint, to this registry.
    publishedDigest: (n) => {
      const st = state.images[n];
      const same = st?.fingerprint === observed.fingerprints.get(n)?.fingerprint;
      return same && st?.registry === registry ? st.digest : undefined;
    },
    testPassed: (n) =>
      state.images[n]?.fingerprint === observed.fingerprints.get(n)?.fingerprint &&
      state.images[n]?.testPassed === true,
    lastBuildSeconds: (n) => state.images[n]?.seconds,
  };
}
