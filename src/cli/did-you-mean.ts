/**
 * "Did you mean" for the command line: only a near miss of the same word is suggested. Imports
 * nothing: `kbuild --help` loads it.
 */

/** Edit distance with adjacent transpositions counting as one edit (`biuld` → `build`: 1). */
export function typoDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * Whether `word` is plausibly a typo of `candidate`: one edit for words up to 4 letters, two up
 * to 8, three beyond, and the same first letter unless the first two are swapped. A different
 * word that happens to be near (`--set` and `--test`, `--ssh` and `--push`) is not a typo.
 */
export function isTypoOf(word: string, candidate: string): boolean {
  if (word === candidate || candidate.length < 2) return false;
  const n = Math.max(word.length, candidate.length);
  const limit = n <= 4 ? 1 : n <= 8 ? 2 : 3;
  const sameStart =
    word[0] === candidate[0] || (word[0] === candidate[1] && word[1] === candidate[0]);
  return sameStart && typoDistance(word, candidate) <= limit;
}

/** The candidate `word` is most plausibly a typo of, if any (ties: the first given). */
export function closestTypo(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    if (!isTypoOf(word, c)) continue;
    const d = typoDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}
