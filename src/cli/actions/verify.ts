/**
 * `kbuild verify`: for each selected image's shared tag in the registry, does the digest it names
 * now carry a signature by the key, a provenance naming the fingerprint the checkout gives now,
 * and an SBOM. A table (or JSON); exit 1 when any image fails, each failure said in words.
 */
import { readState } from '../../adapters/state.js';
import type { ImageName } from '../../core/model.js';
import type { VerifyRow } from '../../core/signing/verdict.js';
import { table } from '../../report/table.js';
import { verifyImages } from '../../run/verify.js';
import { withBuildFeatures } from '../build-features.js';
import { loadSelected } from '../commands/shared.js';
import { UsageError, type Io } from '../io.js';
import type { ProfileOptions, SelectionOptions } from '../load.js';
import { observeFamily } from '../observe-family.js';

export interface VerifyFlags extends ProfileOptions, SelectionOptions {
  /** --key: the public key file (PEM). */
  key?: string;
  /** false with --no-source-check. */
  sourceCheck?: boolean;
  json?: boolean;
  engine?: 'docker' | 'podman';
}

export async function verifyCommand(
  io: Io,
  patterns: string[],
  flags: VerifyFlags,
): Promise<number> {
  if (!flags.key)
    throw new UsageError(
      'verify needs the public key: --key pub.pem (made from the signing key with: openssl pkey -in key.pem -pubout -out pub.pem)',
    );
  const { loadPublicKey } = await import('../../adapters/signing/keys.js');
  const key = await loadPublicKey(flags.key);
  if (!key.ok) throw new UsageError(key.error.message);
  const check = flags.sourceCheck !== false;
  // The fingerprints are the ones a build computes: rendered for the engine's build path.
  const observing = check
    ? await withBuildFeatures({
        ...(flags.engine ? { engine: flags.engine } : {}),
        force: false,
        registryCache: false,
      })
    : undefined;
  const { family, selection, root } = await loadSelected(
    io,
    observing ? { ...flags, buildFeatures: observing.features } : flags,
    patterns,
  );
  const registry = family.naming.registry;
  if (!registry)
    throw new UsageError(
      `verify needs a registry: set 'registry' in ${family.project.file || 'kbuild.yaml'} or the profile, or pass --registry HOST`,
    );
  const state = await readState(root, family.profile.name);
  const images = selection.images.filter((n) => !family.unbuildable.has(n));
  let fingerprints: ReadonlyMap<ImageName, { fingerprint: string }> | undefined;
  if (observing) {
    const found = await observeFamily(root, family, selection, state, observing.settings);
    if (!found.ok)
      throw new UsageError(
        `verify compares each provenance with the fingerprint of the checkout, which needs the container engine (for the base images' digests): ${found.message}; or skip that part with --no-source-check`,
      );
    fingerprints = found.value.observed.fingerprints;
  }
  const { createRegistryClient } = await import('../../adapters/registry/index.js');
  const rows = await verifyImages(createRegistryClient({ retries: 2 }), {
    registry,
    tag: family.naming.tag,
    publicKeyPem: key.value,
    images: images.map((name) => {
      const fp = fingerprints?.get(name)?.fingerprint;
      const stored = state.images[name];
      return {
        name,
        repository: family.naming.repository(name),
        ...(fp !== undefined ? { fingerprint: fp } : {}),
        ...(stored?.digest && stored.registry === registry ? { lastPushed: stored.digest } : {}),
      };
    }),
  });
  const failed = rows.filter((r) => !r.ok);
  if (flags.json) {
    io.out(
      `${JSON.stringify({ ok: failed.length === 0, registry, tag: family.naming.tag, sourceCheck: check, images: rows }, null, 2)}\n`,
    );
  } else {
    io.out(verifyTable(rows));
    io.out(
      `\n${rows.length - failed.length} of ${rows.length} image(s) verified${check ? '' : ' (provenance not compared with the checkout: --no-source-check)'}\n`,
    );
  }
  for (const r of failed) for (const p of r.problems) io.err(`kbuild: ${r.name}: ${p.message}\n`);
  return failed.length ? 1 : 0;
}

function verifyTable(rows: readonly VerifyRow[]): string {
  return table(
    ['IMAGE', 'DIGEST', 'SIGNED', 'PROVENANCE', 'SBOM', 'RESULT'],
    rows.map((r) => [
      r.name,
      r.digest ? r.digest.replace(/^sha256:/, '').slice(0, 12) : '-',
      r.signed,
      r.provenance,
      r.sbom,
      r.ok ? 'ok' : `FAIL (${r.problems.map((p) => p.reason).join(', ')})`,
    ]),
  );
}
