/**
 * Input quoted back in a message, cut to a readable length: a value pasted by mistake (a
 * certificate, 3 KB of random bytes) must not turn one error line into pages.
 */

/** How much of a quoted value a message shows. */
export const QUOTED_MAX = 80;

/** `text` as is when short, else its first `max` characters and "…". */
export function clip(text: string, max = QUOTED_MAX): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max).join('')}…`;
}

/** `text` in double quotes with JSON escapes (control bytes visible), cut to about `max`. */
export function quote(text: string, max = QUOTED_MAX): string {
  const q = [...JSON.stringify(text)];
  if (q.length <= max + 2) return q.join('');
  // Not in the middle of an escape: `\u00` or a lone `\` would read as garbage.
  const head = q
    .slice(0, max + 1)
    .join('')
    .replace(/\\(u[0-9a-fA-F]{0,3})?$/, '');
  return `${head}…"`;
}
