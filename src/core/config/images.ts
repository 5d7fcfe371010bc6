/**
 * Turns the template paths found under the images root into image specs: an image's name is its
 * directory's name, and two images with one name are an error naming both paths.
 */
import { EMPTY_META, parseImageMeta } from './config.js';
import type { ConfigProblem, Failure, ImageSpec } from '../model.js';
import { imageName } from '../model.js';

export interface FoundTemplate {
  /** Path of the Dockerfile.j2 relative to the images root, posix. */
  readonly template: string;
  /** Contents of image.yaml beside it, when there is one. */
  readonly metaText?: string;
}

/** A repository path component as Docker accepts it. */
const VALID_NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/**
 * Builds the image specs. `imagesDir` (project-relative) is only used to name files in errors.
 * Images are returned sorted by name.
 */
export function discoverImages(
  found: readonly FoundTemplate[],
  imagesDir: string,
): { images: ImageSpec[]; failures: Failure[] } {
  const failures: Failure[] = [];
  const problems: ConfigProblem[] = [];
  const byName = new Map<string, string[]>();
  const images: ImageSpec[] = [];
  const shown = (p: string) => `${imagesDir}/${p}`;
  for (const f of [...found].sort((a, b) => a.template.localeCompare(b.template))) {
    const slash = f.template.lastIndexOf('/');
    const dir = slash < 0 ? '' : f.template.slice(0, slash);
    const name = dir.slice(dir.lastIndexOf('/') + 1);
    if (!dir) {
      problems.push({
        file: shown(f.template),
        message: 'a Dockerfile.j2 at the top of the images directory belongs to no image',
        hint: `move it into a directory named after the image, e.g. ${shown('myimage/Dockerfile.j2')}`,
      });
      continue;
    }
    if (!VALID_NAME.test(name)) {
      problems.push({
        file: shown(f.template),
        message: `'${name}' is not a valid image name`,
        hint: 'image directories use lowercase letters, digits and single . _ - separators (Docker repository rules)',
      });
      continue;
    }
    byName.set(name, [...(byName.get(name) ?? []), shown(f.template)]);
    let meta = EMPTY_META;
    if (f.metaText !== undefined) {
      const parsed = parseImageMeta(f.metaText, shown(`${dir}/image.yaml`));
      if (parsed.ok) meta = parsed.value;
      else problems.push(...parsed.error);
    }
    images.push({ name: imageName(name), dir, template: f.template, meta });
  }
  for (const [name, paths] of byName) {
    if (paths.length > 1) failures.push({ reason: 'duplicate-image', name, paths });
  }
  if (problems.length) failures.push({ reason: 'config-invalid', problems });
  const dups = new Set(failures.flatMap((f) => (f.reason === 'duplicate-image' ? [f.name] : [])));
  return {
    images: images.filter((i) => !dups.has(i.name)).sort((a, b) => a.name.localeCompare(b.name)),
    failures,
  };
}
