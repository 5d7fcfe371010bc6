/**
 * With a signing key: every image the run pushes (or finds already pushed) is signed by digest
 * in cosign's format, with its SLSA provenance and its CycloneDX SBOM attested beside it
 * (run/sign). What the key signed and attested for that digest already is not done again, so a
 * re-run with nothing changed writes nothing to the registry.
 */
import type { Digest, ImageName } from '../../core/model.js';
import type { Inventory } from '../../core/packages/inventory.js';
import { imageStatements, timeAfter } from '../../core/signing/statements.js';
import { readInventory } from '../packages/inventory.js';
import type { StepError } from '../scheduler.js';
import { targetName } from '../sign/attached.js';
import { signImage } from '../sign/sign-image.js';
import type { BuildContext, SigningSettings } from './context.js';

/**
 * Signs and attests `digest` as the image `name`; a failure (the registry refused or is gone) is
 * the image's `sign-failed`, transient when the registry said so (the push is then tried again).
 */
export async function signStep(
  ctx: BuildContext,
  signing: SigningSettings,
  name: ImageName,
  digest: string,
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<StepError | undefined> {
  const registry = ctx.ports.registry;
  if (!registry)
    return { reason: 'sign-failed', message: 'signing needs the registry the image is pushed to' };
  const { family } = ctx;
  const { naming } = family;
  const facts = ctx.facts(name);
  const step = ctx.step(name);
  const inventory = await inventoryOf(ctx, name, signal);
  if (!inventory) log(`kbuild: warning: no SBOM for ${name}: its packages could not be read`);
  const now = (ctx.ports.now() - ctx.state.startedMs) / 1000;
  const started = ctx.state.buildStarted.get(name);
  const statements = imageStatements({
    image: {
      name,
      registry: naming.registry,
      repository: naming.repository(name),
      tag: naming.tag,
      digest,
      ...(facts.localId ? { imageId: facts.localId } : {}),
    },
    profile: family.profile.name,
    template: `${family.project.imagesDir}/${family.images.get(name)!.spec.template}`,
    platform: family.platform,
    selection: signing.selection,
    fingerprint: facts.fingerprint,
    record: facts.record,
    parents: Object.fromEntries(
      Object.keys(facts.record.parents).map((p) => {
        const d = parentDigest(ctx, p as ImageName);
        return [p, { ref: naming.remoteRef(p, naming.tag), ...(d ? { digest: d } : {}) }];
      }),
    ),
    ...(facts.record.secrets ? { secrets: facts.record.secrets } : {}),
    git: signing.git,
    run: {
      id: ctx.id.runId,
      ...(started !== undefined
        ? {
            startedOn: timeAfter(ctx.id.startedAt, (started - ctx.state.startedMs) / 1000),
            finishedOn: timeAfter(ctx.id.startedAt, now),
          }
        : {}),
    },
    action: step.action,
    reason: step.reason,
    engine: ctx.ports.engineInfo,
    network: family.profile.network,
    noCache: ctx.options.noCache || step.refresh === true,
    tool: signing.tool,
    ...(inventory ? { inventory } : {}),
  });
  const target = {
    registry: naming.registry,
    repository: naming.repository(name),
    digest: digest as Digest,
  };
  const cacheKey = targetName(target);
  const known = signing.signed?.get(cacheKey);
  const r = await signImage(
    registry.client,
    target,
    signing.signer,
    [statements.provenance, ...(statements.sbom ? [statements.sbom] : [])],
    signal,
    known ? { known } : {},
  );
  if (!r.ok) {
    const transient = 'transient' in r.error ? r.error.transient : false;
    return {
      reason: 'sign-failed',
      message: `signing ${naming.remoteRef(name, naming.tag)}@${digest} failed: ${r.error.message}`,
      transient,
    };
  }
  signing.signed?.set(cacheKey, r.value.layers);
  const added = r.value.attestations.filter((a) => a.outcome === 'added').length;
  log(
    r.value.signature === 'already-signed' && added === 0
      ? `kbuild: ${digest} is signed and attested with key ${signing.signer.keyFingerprint.slice(0, 12)} already`
      : `kbuild: signed ${digest} with key ${signing.signer.keyFingerprint.slice(0, 12)} (${r.value.signature === 'signed' ? 'new signature' : 'signature there'}; attestations: ${r.value.attestations.map((a) => `${a.predicateType} ${a.outcome}`).join(', ')})`,
  );
  return undefined;
}

/** A parent's digest in the registry, as far as the run knows it. */
function parentDigest(ctx: BuildContext, p: ImageName): string | undefined {
  const s = ctx.state;
  return (
    s.pushed.get(p) ??
    s.published.get(p) ??
    s.waitedFor.get(p) ??
    ctx.plan.steps.find((x) => x.name === p)?.facts?.remoteDigest
  );
}

/** The image's packages: read in this run, known from the state, or read now from the image. */
async function inventoryOf(
  ctx: BuildContext,
  name: ImageName,
  signal: AbortSignal,
): Promise<Inventory | undefined> {
  const known = ctx.state.inventories.get(name) ?? ctx.knownInventories?.get(name);
  if (known) return known;
  const read = await readInventory(ctx.ports.engine, ctx.facts(name).fpRef, { signal });
  if (!read.ok) return undefined;
  ctx.state.inventories.set(name, read.value);
  return read.value;
}
