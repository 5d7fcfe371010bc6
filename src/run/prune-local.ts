/**
 * `kbuild prune --local`: the family's local images that no current fingerprint uses, but the
 * newest `keep` per image, are removed from the engine (core/local-prune.ts decides), and the
 * space that frees is counted: the sizes of the images that are gone afterwards.
 */
import { chooseLocalRemovals, type LocalDecision } from '../core/registry/local-prune.js';
import type { ImageName, Result } from '../core/model.js';
import { ok } from '../core/model.js';
import type { Engine, EngineFailure } from './ports.js';

export interface PruneLocalRequest {
  readonly images: readonly {
    readonly name: ImageName;
    /** The repositories the image is tagged in locally (with and without the registry). */
    readonly repositories: readonly string[];
    /** Ids carrying its current fingerprint tag. */
    readonly current: ReadonlySet<string>;
  }[];
  readonly keep: number;
  /** Remove (else only decide: a dry run). */
  readonly apply: boolean;
}

export interface LocalOutcome extends LocalDecision {
  /** With `apply`, for a build not kept: gone, only untagged (another reference or a child holds it), or failed. */
  readonly outcome?: 'removed' | 'untagged' | 'failed';
  readonly problem?: string;
}

export interface PruneLocalResult {
  readonly decisions: readonly LocalOutcome[];
  /** Bytes of the images removed (with `apply`), or that would be (dry run). */
  readonly freedBytes: number;
}

const repositoryOf = (ref: string) => ref.slice(0, ref.lastIndexOf(':'));

/** Lists, decides and (with `apply`) removes; see the module comment. */
export async function pruneLocal(
  engine: Engine,
  req: PruneLocalRequest,
): Promise<Result<PruneLocalResult, EngineFailure>> {
  const listed = await engine.listImages(req.images.flatMap((i) => i.repositories));
  if (!listed.ok) return listed;
  const decisions = chooseLocalRemovals(
    req.images.map((img) => ({
      name: img.name,
      current: img.current,
      builds: listed.value.flatMap((l) => {
        const refs = l.refs.filter((r) => img.repositories.includes(repositoryOf(r)));
        return refs.length ? [{ ...l, refs }] : [];
      }),
    })),
    req.keep,
  );
  const doomed = decisions.filter((d) => !d.keep);
  if (!req.apply) {
    return ok({ decisions, freedBytes: doomed.reduce((n, d) => n + d.size, 0) });
  }
  const failures = new Map<LocalDecision, string>();
  for (const d of doomed) {
    const r = await engine.removeImages(d.refs);
    if (!r.ok) failures.set(d, 'message' in r.error ? r.error.message : r.error.reason);
  }
  // Untagging frees nothing while another reference (or a child image) holds the image.
  const left = await engine.inspect(doomed.map((d) => d.id));
  let freedBytes = 0;
  const outcomes = decisions.map((d): LocalOutcome => {
    if (d.keep) return d;
    const problem = failures.get(d);
    if (problem !== undefined) return { ...d, outcome: 'failed', problem };
    if (left.has(d.id)) return { ...d, outcome: 'untagged' };
    freedBytes += d.size;
    return { ...d, outcome: 'removed' };
  });
  return ok({ decisions: outcomes, freedBytes });
}
