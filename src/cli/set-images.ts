/**
 * `--set`'s IMAGE matched to the family's images (once they are known), with the selection's own
 * matcher: names, groups, globs like `nova-*`, `*` and /regex/.
 */
import { matchPatterns } from '../core/select.js';
import type { ExtraTag, Failure, ImageName } from '../core/model.js';
import { SET_FORMS, type SetOverride } from './image-overrides.js';
import { UsageError } from './io.js';

/** The `--set`s matched to the images they name: build args and extra tags per image name. */
export interface ImageOverrides {
  readonly imageArgs: Record<string, Record<string, string>>;
  readonly imageTags: Record<string, ExtraTag[]>;
}

/**
 * Matches each `--set`'s IMAGE to the family's images, with the selection's matcher; later
 * values win for the same image and arg. An IMAGE that matches nothing is a usage error.
 */
export function resolveSets(
  sets: readonly SetOverride[],
  names: readonly ImageName[],
  groups: Readonly<Record<string, readonly string[]>>,
): ImageOverrides {
  const imageArgs: Record<string, Record<string, string>> = {};
  const imageTags: Record<string, ExtraTag[]> = {};
  for (const s of sets) {
    const failures: Failure[] = [];
    const matched = matchPatterns([s.pattern], names, groups, s.flag, failures);
    const miss = failures.find((f) => f.reason === 'selection-unknown');
    if (miss || matched.size === 0) {
      const hint = miss && 'suggestion' in miss && miss.suggestion ? ` (${miss.suggestion})` : '';
      throw new UsageError(`${s.flag}: '${s.pattern}' matches no image${hint} — ${SET_FORMS}`);
    }
    for (const n of matched) {
      if (s.key === 'args') imageArgs[n] = { ...imageArgs[n], [s.arg]: s.value };
      else
        imageTags[n] = [
          ...(imageTags[n] ?? []),
          ...s.tags.split(',').map((tag) => ({ tag: tag.trim(), from: s.flag })),
        ];
    }
  }
  return { imageArgs, imageTags };
}
