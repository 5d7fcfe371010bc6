/**
 * Which images changed between two renderings of a family (then and now): a different rendered
 * Dockerfile (family references normalised), build args or build context, or an image that is
 * new. Templates, included macros, profile settings and kbuild.yaml all show up this way.
 */
import type { Family } from '../family.js';
import { withoutFamilyRefs } from './freshness.js';
import { canonicalJson } from './fingerprint.js';
import type { ImageName } from '../model.js';

export function changedImages(
  before: Family | undefined,
  now: Family,
  contexts: {
    before: ReadonlyMap<ImageName, Readonly<Record<string, string>>>;
    now: ReadonlyMap<ImageName, Readonly<Record<string, string>>>;
  },
): Set<ImageName> {
  const out = new Set<ImageName>();
  for (const [name, img] of now.images) {
    const old = before?.images.get(name);
    const node = now.graph.nodes.get(name)!;
    const oldNode = before?.graph.nodes.get(name);
    if (
      !before ||
      !old ||
      !oldNode ||
      withoutFamilyRefs(old.dockerfile, before, oldNode.parents) !==
        withoutFamilyRefs(img.dockerfile, now, node.parents) ||
      canonicalJson(old.buildArgs) !== canonicalJson(img.buildArgs) ||
      canonicalJson(contexts.before.get(name) ?? {}) !== canonicalJson(contexts.now.get(name) ?? {})
    ) {
      out.add(name);
    }
  }
  return out;
}
