/**
 * How pushed images become the family's shared tag. One interface, three modes:
 * - eager: each image's shared tag moves as soon as it is pushed (or found in the registry);
 * - atomic: images go under their fp tags only; every shared tag moves at the end, only when the
 *   whole selection succeeded, so the shared tag always names one complete set (locally too:
 *   when the set is not published, the local shared tags are put back where they were);
 * - deferred: fp tags only; the caller publishes (one platform of several: manifest lists).
 */
import type { ImageName } from '../../core/model.js';
import type { Outcome } from '../scheduler.js';
import type { PublishSummary } from '../summary.js';
import type { BuildContext, PublishMode } from './context.js';

const fpTagOf = (ctx: BuildContext, name: ImageName) => ctx.facts(name).fpTag;

/** Pushes under the fp tag; the shared tag is not touched during the run. */
const underFingerprint = {
  adopt: () => Promise.resolve(undefined),
  pushRef: (ctx: BuildContext, name: ImageName) =>
    ctx.family.naming.remoteRef(name, fpTagOf(ctx, name)),
  afterPush: () => Promise.resolve(),
};

/** The registry tags an image is published under: the shared tag, then its extra tags. */
const publishedTags = (ctx: BuildContext, name: ImageName) => [
  ctx.family.naming.tag,
  ...ctx.family.naming.extraTags(name),
];

/**
 * Points `tag` at the image under `fromTag` (a manifest copy inside the registry), unless it names
 * `digest` already; the error text when the copy failed. `moved`: whether it moved.
 */
async function pointTag(
  ctx: BuildContext,
  name: ImageName,
  fromTag: string,
  tag: string,
  digest: string | undefined,
  signal: AbortSignal,
): Promise<{ error?: string; moved: boolean }> {
  const registry = ctx.ports.registry!;
  const repo = ctx.family.naming.repository(name);
  const current = digest === undefined ? undefined : await registry.digest(repo, tag, signal);
  if (current?.ok && current.value === digest) return { moved: false };
  const r = await registry.alias(repo, fromTag, tag, signal);
  return r.ok ? { moved: true } : { error: r.error.message, moved: false };
}

const eager: PublishMode = {
  mode: 'eager',
  async adopt(ctx, name, digest, log, signal) {
    const repo = ctx.family.naming.repository(name);
    for (const tag of publishedTags(ctx, name)) {
      const r = await pointTag(ctx, name, fpTagOf(ctx, name), tag, digest, signal);
      if (r.error) return r.error;
      if (!r.moved) continue;
      log(
        `kbuild: ${repo}:${tag} now names ${digest} (a copy inside the registry: no build, no layer moved)`,
      );
      ctx.state.moved.add(name);
    }
    ctx.state.published.set(name, digest);
    return undefined;
  },
  pushRef: (ctx, name) => ctx.family.naming.remoteRef(name, ctx.family.naming.tag),
  async afterPush(ctx, name, log, signal) {
    // The fingerprint tag beside the shared one lets another host find this image by what it is
    // made of; the extra tags name what the shared one names.
    const { naming } = ctx.family;
    const repo = naming.repository(name);
    for (const tag of [fpTagOf(ctx, name), ...naming.extraTags(name)]) {
      const r = await ctx.ports.registry?.alias(repo, naming.tag, tag, signal);
      if (r && !r.ok) log(`kbuild: warning: could not add tag ${tag}: ${r.error.message}`);
      else if (r && tag !== fpTagOf(ctx, name))
        log(`kbuild: tagged ${repo}:${tag} in the registry`);
    }
  },
  finish: () => Promise.resolve(undefined),
};

const deferred: PublishMode = {
  mode: 'deferred',
  ...underFingerprint,
  finish: () => Promise.resolve(undefined),
};

const atomic: PublishMode = {
  mode: 'atomic',
  ...underFingerprint,
  finish: publishAll,
};

export const publishModes: Readonly<Record<PublishMode['mode'], PublishMode>> = {
  eager,
  atomic,
  deferred,
};

/*
 * The local shared tags (`ns/img:tag`, `REGISTRY/ns/img:tag`) under atomic. The images built here
 * name their parents by those tags in their FROM lines, so the actions still point them at this
 * run's builds as they go; what each named before is kept in the run's state (heldTags), and when
 * the set is not published they are put back, so that afterwards they name the same complete set
 * as the registry's shared tag (`kbuild test`, a manual push, another build see no half-published
 * set).
 */

/**
 * Called by an action before it points an image's local shared tags at this run's image: under
 * atomic, remembers (once per tag) what they named, to put them back if the set is not published.
 */
export async function holdLocalTags(ctx: BuildContext, name: ImageName): Promise<void> {
  if (ctx.publish.mode !== 'atomic') return;
  const held = ctx.state.heldTags;
  const tags = ctx.family.naming.tags(name).filter((t) => !held.has(t));
  if (!tags.length) return;
  const found = await ctx.ports.engine.inspect(tags);
  for (const t of tags) if (!held.has(t)) held.set(t, { name, id: found.get(t)?.id });
}

/**
 * Puts the local shared tags of `names` (every image, when undefined) back where they were before
 * the run: on the image they named, or untagged when they named none (the build keeps its fp
 * tag). Returns what could not be put back, as text.
 */
async function releaseLocalTags(
  ctx: BuildContext,
  names?: ReadonlySet<ImageName>,
): Promise<string[]> {
  const held = ctx.state.heldTags;
  const problems: string[] = [];
  for (const [tag, { name, id }] of held) {
    if (names && !names.has(name)) continue;
    const r = id
      ? await ctx.ports.engine.tag(id, tag)
      : (await ctx.ports.engine.inspect([tag])).has(tag)
        ? await ctx.ports.engine.removeImages([tag])
        : { ok: true as const, value: undefined };
    if (!r.ok) problems.push(`${tag}: ${'message' in r.error ? r.error.message : r.error.reason}`);
    held.delete(tag);
  }
  return problems;
}

const putBack = (problems: readonly string[]) =>
  problems.length
    ? `; the local shared tags could not all be put back (${problems.join('; ')})`
    : '';

/**
 * The end of an atomic run: every shared tag moves to its image's fp manifest, or none does. The
 * registry has no transactions, so "at once" is this short phase of manifest copies (no layer
 * moves); a copy that fails is reported by name, and a re-run moves the rest.
 */
async function publishAll(
  ctx: BuildContext,
  outcomes: ReadonlyMap<ImageName, Outcome>,
): Promise<PublishSummary> {
  const { naming } = ctx.family;
  const registry = ctx.ports.registry;
  const signal = ctx.signal;
  const allowed = new Set(ctx.family.profile.allowedToFail);
  const done = [...outcomes.values()];
  const failed = done.filter((x) => x.status !== 'pushed' && !allowed.has(x.name));
  if (signal.aborted || failed.length || !registry) {
    const why = signal.aborted
      ? 'the run was interrupted'
      : !registry
        ? 'no registry to publish to'
        : `${failed.length} image(s) did not succeed (${failed.map((x) => x.name).join(', ')})`;
    const problems = await releaseLocalTags(ctx);
    return {
      mode: 'atomic',
      published: false,
      moved: [],
      failed: [],
      message: `nothing published: ${why}; the shared tag ${naming.tag} still names the previous complete set${putBack(problems)}`,
    };
  }
  // Another shard's images are its to publish, never this run's.
  const moving = done
    .filter((x) => x.status === 'pushed' && !ctx.options.foreign?.has(x.name))
    .map((x) => x.name);
  const results = await Promise.all(
    moving.map(async (name) => {
      const fpTag = fpTagOf(ctx, name);
      const digest = await registry.digest(naming.repository(name), fpTag, signal);
      const known = digest.ok && digest.value ? digest.value : undefined;
      // The shared tag first, then the extra tags, each to the image of this run.
      let changed = false;
      for (const tag of publishedTags(ctx, name)) {
        const r = await pointTag(ctx, name, fpTag, tag, known, signal);
        if (r.error) return { name, error: r.error, changed: true };
        changed ||= r.moved;
      }
      return { name, error: undefined, changed };
    }),
  );
  const bad = results.filter((x) => x.error);
  const moved = results.filter((x) => !x.error && x.changed).map((x) => x.name);
  // Locally too, an image whose shared tag did not move in the registry keeps its previous one.
  const problems = bad.length ? await releaseLocalTags(ctx, new Set(bad.map((x) => x.name))) : [];
  return {
    mode: 'atomic',
    published: bad.length === 0,
    moved,
    failed: bad.map((x) => ({ name: x.name, message: x.error! })),
    message: bad.length
      ? `published in part: the shared tag of ${bad.map((x) => x.name).join(', ')} could not be moved (${bad[0]!.error}); run again to finish${putBack(problems)}`
      : `published: ${moved.length} shared tag(s) moved to this run's images, ${moving.length - moved.length} already there`,
  };
}
