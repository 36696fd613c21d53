// A line diff (longest common subsequence) for artifact previews.

export type LineOp = { type: "same" | "add" | "del"; text: string };

/** Lines of `a` and `b` as same/del/add operations, in order. Inputs
 * beyond `limit` lines each are compared line by line without alignment. */
export function diffLines(a: string[], b: string[], limit = 3000): LineOp[] {
  if (a.length > limit || b.length > limit) {
    const out: LineOp[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (a[i] === b[i]) out.push({ type: "same", text: a[i] });
      else {
        if (i < a.length) out.push({ type: "del", text: a[i] });
        if (i < b.length) out.push({ type: "add", text: b[i] });
      }
    }
    return out;
  }
  const n = a.length;
  const m = b.length;
  // lcs[i][j] = LCS length of a[i:] and b[j:], in one flat array.
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] =
        a[i] === b[j] ? lcs[(i + 1) * (m + 1) + j + 1] + 1 : Math.max(lcs[(i + 1) * (m + 1) + j], lcs[i * (m + 1) + j + 1]);
    }
  }
  const out: LineOp[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ type: "same", text: a[i] });
      i++;
      j++;
    } else if (lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
      out.push({ type: "del", text: a[i++] });
    } else {
      out.push({ type: "add", text: b[j++] });
    }
  }
  while (i < n) out.push({ type: "del", text: a[i++] });
  while (j < m) out.push({ type: "add", text: b[j++] });
  return out;
}
