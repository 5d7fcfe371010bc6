/**
 * How pushed images become the family's shared tag. One interface, three modes:
 * - eager: each image's shared tag moves as soon as it is pushed (or found in the registry);
 * - atomic: images go under their fp tags only; every shared tag moves at the end, only when the
 *   whole selection succeeded, so the shared tag always names one complete set;
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

const eager: PublishMode = {
  mode: 'eager',
  async adopt(ctx, name, digest, log, signal) {
    const { naming } = ctx.family;
    const registry = ctx.ports.registry!;
    const repo = naming.repository(name);
    const current = await registry.digest(repo, naming.tag, signal);
    if (!current.ok || current.value !== digest) {
      const r = await registry.alias(repo, fpTagOf(ctx, name), naming.tag, signal);
      if (!r.ok) return r.error.message;
      log(
        `kbuild: ${repo}:${naming.tag} now names ${digest} (a copy inside the registry: no build, no layer moved)`,
      );
      ctx.state.moved.add(name);
    }
    ctx.state.published.set(name, digest);
    return undefined;
  },
  pushRef: (ctx, name) => ctx.family.naming.tags(name).at(-1)!,
  async afterPush(ctx, name, log, signal) {
    // The fingerprint tag beside the shared one lets another host find this image by what it is made of.
    const { naming } = ctx.family;
    const r = await ctx.ports.registry?.alias(
      naming.repository(name),
      naming.tag,
      fpTagOf(ctx, name),
      signal,
    );
    if (r && !r.ok)
      log(`kbuild: warning: could not add tag ${fpTagOf(ctx, name)}: ${r.error.message}`);
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
    return {
      mode: 'atomic',
      published: false,
      moved: [],
      failed: [],
      message: `nothing published: ${why}; the shared tag ${naming.tag} still names the previous complete set`,
    };
  }
  // Another shard's images are its to publish, never this run's.
  const moving = done
    .filter((x) => x.status === 'pushed' && !ctx.options.foreign?.has(x.name))
    .map((x) => x.name);
  const results = await Promise.all(
    moving.map(async (name) => {
      const repo = naming.repository(name);
      const fpTag = fpTagOf(ctx, name);
      const [digest, current] = await Promise.all([
        registry.digest(repo, fpTag, signal),
        registry.digest(repo, naming.tag, signal),
      ]);
      if (digest.ok && digest.value && current.ok && current.value === digest.value)
        return { name, error: undefined, changed: false };
      const r = await registry.alias(repo, fpTag, naming.tag, signal);
      return { name, error: r.ok ? undefined : r.error.message, changed: true };
    }),
  );
  const bad = results.filter((x) => x.error);
  const moved = results.filter((x) => !x.error && x.changed).map((x) => x.name);
  return {
    mode: 'atomic',
    published: bad.length === 0,
    moved,
    failed: bad.map((x) => ({ name: x.name, message: x.error! })),
    message: bad.length
      ? `published in part: the shared tag of ${bad.map((x) => x.name).join(', ')} could not be moved (${bad[0]!.error}); run again to finish`
      : `published: ${moved.length} shared tag(s) moved to this run's images, ${moving.length - moved.length} already there`,
  };
}
