/** A column shrunk to keep a table's lines within a width: the terminal's, or a CI log's. */
export interface Fit {
  /** The widest a line may be. */
  readonly width: number;
  /** The column that gives way (its cells are put on one line and cut with an ellipsis). */
  readonly column: number;
  /** It never gets narrower than this (16 by default), even if lines then run over. */
  readonly min?: number;
  /** Columns left out, in this order, while the lines would still run over (say, digests). */
  readonly optional?: readonly number[];
}

/** `text` on one line, at most `width` characters: cut with an ellipsis when longer. */
export const cutToWidth = (text: string, width: number) => {
  const one = text.replace(/\s*\n\s*/g, ' ');
  return one.length > width ? `${one.slice(0, Math.max(0, width - 1))}…` : one;
};

/** A plain text table: columns padded to their widest cell, no trailing spaces. */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  fit?: Fit,
): string {
  const widest = (head: readonly string[], cells: readonly (readonly string[])[]) =>
    head.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const render = (head: readonly string[], cells: readonly (readonly string[])[]) => {
    const widths = widest(head, cells);
    const line = (row: readonly string[]) =>
      row
        .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    return [line(head), ...cells.map(line)].join('\n') + '\n';
  };
  if (!fit) return render(header, rows);
  const min = Math.max(fit.min ?? 16, header[fit.column]?.length ?? 0);
  /** The columns kept: every one, then fewer while even the narrowest fit column runs over. */
  let kept = header.map((_, i) => i);
  const othersWidth = (cols: readonly number[]) =>
    cols.reduce((t, c) => (c === fit.column ? t : t + widest(header, rows)[c]! + 2), 0);
  for (const drop of fit.optional ?? []) {
    if (othersWidth(kept) + min <= fit.width) break;
    kept = kept.filter((c) => c !== drop);
  }
  const room = Math.max(min, fit.width - othersWidth(kept));
  const pick = (r: readonly string[]) =>
    kept.map((c) => (c === fit.column ? cutToWidth(r[c] ?? '', room) : (r[c] ?? '')));
  return render(pick(header), rows.map(pick));
}
