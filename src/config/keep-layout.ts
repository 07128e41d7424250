import { parseDocument } from 'yaml';

/** Past this many line pairs the layout is not mapped back (a config file is never near it). */
const MAX_CELLS = 4_000_000;

/**
 * Puts an edited YAML document's untouched lines back exactly as the user wrote them. The yaml library keeps
 * comments but re-renders every line (aligned inline comments collapse to one space, quoting and spacing change),
 * so an edit of one rule would rewrite the whole file. Lines of `edited` that match a line of the original
 * document as the library renders it (longest common subsequence) are replaced by that original line; changed
 * and new lines keep the library's rendering. If rendering the original moved lines (so lines cannot be paired
 * with the source), the edited text is returned as it is.
 */
export function keepLayout(original: string, edited: string): string {
  const source = original.split('\n');
  const rendered = parseDocument(original).toString().split('\n');
  const out = edited.split('\n');
  if (source.length !== rendered.length) return edited;
  const n = rendered.length;
  const m = out.length;
  if (n * m > MAX_CELLS) return edited;
  // lcs[i][j]: length of the longest common subsequence of rendered[i..] and out[j..].
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] = rendered[i] === out[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (rendered[i] === out[j]) {
      out[j] = source[i]!;
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) i++;
    else j++;
  }
  return out.join('\n');
}
