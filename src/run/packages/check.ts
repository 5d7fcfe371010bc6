/**
 * The update check's run half: for the images to check, group them by package-manager
 * configuration, ask apt once per configuration (in a container of one of its images, with the
 * network, in parallel), and say per image what the answer means.
 */
import type { ImageName } from '../../core/model.js';
import type { InstalledPackage, Inventory } from '../../core/packages/inventory.js';
import {
  aptCheckScript,
  askedKey,
  imageCheck,
  parseAptCheck,
  type AptAnswer,
  type PackageCheck,
} from '../../core/packages/updates.js';
import type { Result } from '../../core/model.js';
import { mapLimited } from '../limited.js';
import type { Engine } from '../ports.js';
import { runScript } from './script.js';

export interface ImageToCheck {
  readonly name: ImageName;
  /** A reference of the image in the engine (to run apt in). */
  readonly ref: string;
  readonly inventory: Inventory;
  /** The packages it answers for: those it added; a root image: all of its own. */
  readonly answersFor: readonly InstalledPackage[];
  /** Candidates a rebuild already failed to apply (from the state). */
  readonly notApplied?: Readonly<Record<string, string>>;
}

export interface CheckOptions {
  readonly engine: Engine;
  /** Network for apt (the profile's build network: the archive must be reachable). */
  readonly network: string;
  readonly signal: AbortSignal;
  /** Configurations checked at once. */
  readonly concurrency?: number;
}

/** Checks every image; the answer per image (every image given gets one). */
export async function checkUpdates(
  images: readonly ImageToCheck[],
  o: CheckOptions,
): Promise<{ checks: Map<ImageName, PackageCheck>; configurations: number }> {
  const checks = new Map<ImageName, PackageCheck>();
  const groups = new Map<string, ImageToCheck[]>();
  for (const img of images) {
    const { manager, config } = img.inventory;
    if (manager === 'none' || img.answersFor.length === 0)
      checks.set(img.name, { status: 'current' });
    else if (manager === 'rpm')
      checks.set(img.name, {
        status: 'check-failed',
        reason: 'the update check asks apt; this image has rpm (dnf images are not checked yet)',
      });
    else groups.set(config, [...(groups.get(config) ?? []), img]);
  }
  await mapLimited([...groups.values()], o.concurrency ?? 2, async (group) => {
    const answer = await askApt(group, o);
    for (const img of group)
      checks.set(
        img.name,
        answer.ok
          ? imageCheck(img.answersFor, answer.value, img.notApplied)
          : { status: 'check-failed', reason: `${answer.error} (asked in ${group[0]!.ref})` },
      );
  });
  return { checks, configurations: groups.size };
}

/** One configuration: every distinct package version its images answer for, asked at once. */
async function askApt(
  group: readonly ImageToCheck[],
  o: CheckOptions,
): Promise<Result<AptAnswer, string>> {
  const asked = new Map(
    group
      .flatMap((i) => i.answersFor)
      .map((p) => [askedKey(p, p.version), { name: p.name, arch: p.arch, version: p.version }]),
  );
  const ran = await runScript(o.engine, group[0]!.ref, aptCheckScript([...asked.values()]), {
    network: o.network,
    signal: o.signal,
    timeoutSeconds: 600,
  });
  return ran.ok
    ? parseAptCheck(ran.value.lines)
    : { ok: false, error: `apt could not run: ${ran.error}` };
}
