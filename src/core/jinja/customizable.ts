/**
 * The `customizable` filter of Jinja-era image families:
 *
 *     {{ ['memcached'] | customizable('packages') }}
 *
 * returns the list as changed by the context variables `<image>_<listName>_override` (replaces
 * it), `_append` (adds items not already in it, at the end) and `_remove` (removes items), where
 * `<image>` is the context variable `image_name` with `-` replaced by `_`
 * (`nova-api` -> `nova_api_packages_append`). They apply in that order, so a profile's
 * `_append` / `_remove` also apply to a template override's `_override`. Unset (or null)
 * variables change nothing. An undefined list stays undefined (for `is defined` checks), as in
 * kolla. The input list is never modified.
 */
import { pyEq, pyTypeName } from './python-values.js';

/** The part of the nunjucks Context the filter reads. */
export interface ContextLookup {
  lookup(name: string): unknown;
}

export function customizable(this: ContextLookup, list: unknown, listName: unknown): unknown {
  if (list === undefined) return undefined;
  if (typeof listName !== 'string' || listName === '') {
    throw new Error("customizable: give the list's name, e.g. customizable('packages')");
  }
  if (!Array.isArray(list)) {
    throw new Error(`customizable('${listName}'): expected a list, got ${pyTypeName(list)}`);
  }
  const image = this.lookup('image_name');
  if (typeof image !== 'string' || image === '') {
    throw new Error(`customizable('${listName}'): the context variable image_name is not set`);
  }
  const prefix = `${image.replace(/-/g, '_')}_${listName}_`;
  const listVar = (suffix: string): readonly unknown[] | undefined => {
    const name = prefix + suffix;
    const v = this.lookup(name);
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) throw new Error(`${name} must be a list, got ${pyTypeName(v)}`);
    const items: readonly unknown[] = v;
    return items;
  };
  const input: readonly unknown[] = list;
  const result: unknown[] = [...(listVar('override') ?? input)];
  for (const item of listVar('append') ?? []) {
    if (!result.some((x) => pyEq(x, item))) result.push(item);
  }
  const remove = listVar('remove');
  return remove ? result.filter((x) => !remove.some((r) => pyEq(r, x))) : result;
}
