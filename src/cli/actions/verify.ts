/**
 * `kbuild verify`: for each selected image's shared tag in the registry, does the digest it names
 * now carry a signature by the key, a provenance naming the fingerprint the checkout gives now,
 * and an SBOM. A table (or JSON); exit 1 when any image fails, each failure said in words.
 */
import { readState, stateName } from '../../adapters/state.js';
import type { ImageName } from '../../core/model.js';
import type { VerifyRow } from '../../core/signing/verdict.js';
import { table } from '../../report/table.js';
import { verifyImages, type VerifyPlatform } from '../../run/verify.js';
import { withBuildFeatures } from '../build-features.js';
import { loadSelected, type Selected } from '../commands/shared.js';
import { UsageError, type Io } from '../io.js';
import {
  loadProfile,
  loadWorkspace,
  profileName,
  type ProfileOptions,
  type SelectionOptions,
} from '../load.js';
import { Failed, platformList } from '../options.js';
import { archOf } from '../../run/publish-platforms.js';
import { observeFamily } from '../observe-family.js';

export interface VerifyFlags extends ProfileOptions, SelectionOptions {
  /** --platform: the platforms the family was built for (default: the profile's). */
  platform?: string;
  /** --arch-tags: published as `<tag>-<arch>` tags instead of lists. */
  archTags?: boolean;
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
  const loadOpts = observing ? { ...flags, buildFeatures: observing.features } : flags;
  const ws = await loadWorkspace(io, loadOpts);
  if (!ws.ok) throw new Failed(ws.failures);
  const profile = loadProfile(io, ws.value, loadOpts, profileName(io, ws.value, flags.profile));
  if (!profile.ok) throw new Failed(profile.failures);
  const platforms = platformList(flags.platform) ?? [...new Set(profile.value.platforms)];
  if (flags.archTags && platforms.length < 2)
    throw new UsageError('--arch-tags needs two or more platforms (--platform)');
  const several = platforms.length > 1;
  // Each platform's family as build renders it (several: its tag carries `-<arch>`).
  const loaded: Selected[] = [];
  for (const platform of several ? platforms : platforms.slice(0, 1))
    loaded.push(
      await loadSelected(io, loadOpts, patterns, {
        workspace: ws.value,
        ...(platform ? { platform } : {}),
        ...(several ? { tagSuffix: `-${archOf(platform)}` } : {}),
      }),
    );
  if (!loaded.length)
    loaded.push(await loadSelected(io, loadOpts, patterns, { workspace: ws.value }));
  const { family, root } = loaded[0]!;
  const registry = family.naming.registry;
  if (!registry)
    throw new UsageError(
      `verify needs a registry: set 'registry' in ${family.project.file || 'kbuild.yaml'} or the profile, or pass --registry HOST`,
    );
  const tag = several
    ? family.naming.tag.slice(0, -`-${archOf(platforms[0]!)}`.length)
    : family.naming.tag;
  const expected = new Map<ImageName, VerifyPlatform[]>();
  for (const one of loaded) {
    const p = one.family.platform;
    const state = await readState(
      root,
      stateName(one.family.profile.name, several ? archOf(p) : undefined),
    );
    let fingerprints: ReadonlyMap<ImageName, { fingerprint: string }> | undefined;
    if (observing) {
      const found = await observeFamily(root, one.family, one.selection, state, observing.settings);
      if (!found.ok)
        throw new UsageError(
          `verify compares each provenance with the fingerprint of the checkout, which needs the container engine (for the base images' digests): ${found.message}; or skip that part with --no-source-check`,
        );
      fingerprints = found.value.observed.fingerprints;
    }
    for (const name of one.selection.images) {
      if (one.family.unbuildable.has(name)) continue; // not built for this platform
      const fp = fingerprints?.get(name)?.fingerprint;
      const stored = state.images[name];
      expected.set(name, [
        ...(expected.get(name) ?? []),
        {
          platform: p,
          ...(fp !== undefined ? { fingerprint: fp } : {}),
          ...(stored?.digest && stored.registry === registry ? { lastPushed: stored.digest } : {}),
        },
      ]);
    }
  }
  const { createRegistryClient } = await import('../../adapters/registry/index.js');
  const rows = await verifyImages(createRegistryClient({ retries: 2 }), {
    registry,
    tag,
    publicKeyPem: key.value,
    ...(flags.archTags ? { archTags: true } : {}),
    images: [...expected].map(([name, ps]) => ({
      name,
      repository: family.naming.repository(name),
      ...(!several && ps[0]?.fingerprint !== undefined ? { fingerprint: ps[0].fingerprint } : {}),
      ...(!several && ps[0]?.lastPushed !== undefined ? { lastPushed: ps[0].lastPushed } : {}),
      platforms: ps,
    })),
  });
  const failed = rows.filter((r) => !r.ok);
  if (flags.json) {
    io.out(
      `${JSON.stringify({ ok: failed.length === 0, registry, tag, ...(several ? { platforms } : {}), sourceCheck: check, images: rows }, null, 2)}\n`,
    );
  } else {
    io.out(verifyTable(rows));
    io.out(
      `\n${rows.length - failed.length} of ${rows.length} image(s) verified${check ? '' : ' (provenance not compared with the checkout: --no-source-check)'}\n`,
    );
  }
  for (const r of failed)
    for (const row of [r, ...(r.platforms ?? [])])
      for (const p of row.problems)
        io.err(`kbuild: ${r.name}${row.platform ? ` ${row.platform}` : ''}: ${p.message}\n`);
  return failed.length ? 1 : 0;
}

/**
 * One row per digest checked: an image of several platforms gets its list's row (PLATFORM
 * `list`) and one row per platform's manifest, each with the digest cosign can be pointed at and
 * its own result, so a failure reads as the image and platform it is about.
 */
function verifyTable(rows: readonly VerifyRow[]): string {
  const several = rows.some((r) => r.platforms);
  const line = (r: VerifyRow, platform: string) => [
    r.name,
    ...(several ? [platform] : []),
    r.digest ? r.digest.replace(/^sha256:/, '').slice(0, 12) : '-',
    r.signed,
    r.provenance,
    r.sbom,
    r.problems.length === 0 ? 'ok' : `FAIL (${r.problems.map((p) => p.reason).join(', ')})`,
  ];
  return table(
    ['IMAGE', ...(several ? ['PLATFORM'] : []), 'DIGEST', 'SIGNED', 'PROVENANCE', 'SBOM', 'RESULT'],
    rows.flatMap((r) => [
      // Arch tags: no list, only the platforms' tags.
      ...(r.signed === '-' ? [] : [line(r, r.platforms ? 'list' : '-')]),
      ...(r.platforms ?? []).map((p) => line(p, p.platform ?? '-')),
    ]),
  );
}
