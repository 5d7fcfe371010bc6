/** `kbuild promote`: another tag for the selection's images, by digest (no rebuild, no engine). */
import { registryProblem } from '../../core/config/values.js';
import type { ImageName } from '../../core/model.js';
import { promoteSummary, promoteTable } from '../../report/release.js';
import { promote } from '../../run/promote.js';
import { notSignedMessage } from '../../run/sign/require-signed.js';
import { UsageError, type Io } from '../io.js';
import type { ProfileOptions, SelectionOptions } from '../load.js';
import { loadSelected } from '../commands/shared.js';

export interface PromoteFlags extends ProfileOptions, SelectionOptions {
  from: string;
  to: string;
  toRegistry?: string;
  /** --require-signed: a public key file (PEM); every source digest must be signed by it. */
  requireSigned?: string;
  json?: boolean;
}

const TAG = /^[\w][\w.-]{0,127}$/;

export async function promoteCommand(
  io: Io,
  patterns: string[],
  flags: PromoteFlags,
): Promise<number> {
  for (const [flag, tag] of [
    ['--from', flags.from],
    ['--to', flags.to],
  ] as const) {
    if (!TAG.test(tag))
      throw new UsageError(
        `${flag} '${tag}' is not a valid tag (letters, digits, _ . -; at most 128)`,
      );
  }
  const badTarget = flags.toRegistry !== undefined ? registryProblem(flags.toRegistry) : undefined;
  if (badTarget) throw new UsageError(`--to-registry: ${badTarget.message} — ${badTarget.hint}`);
  let requireSignedBy: string | undefined;
  if (flags.requireSigned !== undefined) {
    const { loadPublicKey } = await import('../../adapters/signing/keys.js');
    const key = await loadPublicKey(flags.requireSigned);
    if (!key.ok) throw new UsageError(`--require-signed: ${key.error.message}`);
    requireSignedBy = key.value;
  }
  const { family, selection } = await loadSelected(io, flags, patterns);
  const registry = family.naming.registry;
  if (!registry) {
    throw new UsageError(
      `promote needs the registry the images are in: set 'registry' in ${family.project.file || 'kbuild.yaml'} or the profile, or pass --registry`,
    );
  }
  const names: ImageName[] = [];
  for (const n of selection.images) {
    const why = family.unbuildable.get(n);
    if (why) io.err(`kbuild: skipping ${n}: it cannot be built for this profile (${why})\n`);
    else names.push(n);
  }
  const from = { registry, tag: flags.from };
  const to = { registry: flags.toRegistry ?? registry, tag: flags.to };
  const { createRegistryClient } = await import('../../adapters/registry/index.js');
  const r = await promote(createRegistryClient(), {
    images: names.map((name) => ({ name, repository: family.naming.repository(name) })),
    from,
    to,
    ...(requireSignedBy !== undefined ? { requireSignedBy } : {}),
  });
  if (flags.json) {
    io.out(
      `${JSON.stringify({ ok: r.ok, from, to, ...(r.ok ? { images: r.value } : r.error) }, null, 2)}\n`,
    );
  }
  if (r.ok) {
    if (!flags.json) io.out(`${promoteTable(r.value, from, to)}\n${promoteSummary(r.value)}\n`);
    return 0;
  }
  const e = r.error;
  switch (e.reason) {
    case 'source-missing': {
      const lines = [
        ...e.missing.map((m) => `  ${m.name}: ${m.ref} does not exist`),
        ...e.unreadable.map((m) => `  ${m.name}: ${m.ref}: ${m.message}`),
      ];
      io.err(
        `kbuild: nothing promoted: ${lines.length} of ${names.length} image(s) cannot be had under tag '${from.tag}' in ${registry}:\n${lines.join('\n')}\n` +
          `Push them first (kbuild build --push --tag ${from.tag}), or leave them out of the selection.\n`,
      );
      return 1;
    }
    case 'not-signed':
      io.err(
        `kbuild: nothing promoted: ${e.refused.length} of ${names.length} image(s) under tag '${from.tag}' in ${registry} are not signed by the key in ${flags.requireSigned ?? '--require-signed'}:\n` +
          e.refused.map((n) => `  ${n.name}: ${notSignedMessage(n)}\n`).join('') +
          `Sign them (kbuild build --push --sign-key KEY --tag ${from.tag}, which signs what is pushed or found pushed), or give the public key of the key that signed them.\n`,
      );
      return 1;
    case 'copy-failed':
      if (!flags.json && e.promoted.length) io.out(promoteTable(e.promoted, from, to));
      io.err(
        `kbuild: ${e.failed.length} image(s) not promoted (run again: what is there already is skipped):\n` +
          e.failed.map((f) => `  ${f.name}: ${f.message}\n`).join(''),
      );
      return 1;
  }
}
