/**
 * Input quoted back in a message, cut to a readable length: a value pasted by mistake (a
 * certificate, random bytes) must not turn one error line into pages.
 */

/** `text` as is when short, else its first `max` characters and "…". */
export function clip(text: string, max = 80): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max).join('')}…`;
}
