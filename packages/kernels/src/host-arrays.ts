import type { FloatArray } from "./backend.js";

/**
 * Host-side loops that several backends share for their read-back methods (the CPU
 * backends on their arrays, the others on values already read back).
 */

/** max |a[i] - b[i]| over `a.length` entries; NaN as soon as a difference is NaN. */
export function maxAbsDiffOf(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    if (d > max || Number.isNaN(d)) max = d;
    if (Number.isNaN(max)) return max;
  }
  return max;
}

/**
 * max |g[i]| over the entries not held at a bound of [lo, hi]: s[i] <= lo with g[i] > 0, or
 * s[i] >= hi with g[i] < 0, are held; NaN as soon as a g is NaN.
 */
export function heldMaxAbsOf(s: ArrayLike<number>, g: ArrayLike<number>, lo: number, hi: number): number {
  let r = 0;
  for (let i = 0; i < g.length; i++) {
    const v = g[i] as number;
    if (Number.isNaN(v)) return v;
    const x = s[i] as number;
    if ((x <= lo && v > 0) || (x >= hi && v < 0)) continue;
    const a = Math.abs(v);
    if (a > r) r = a;
  }
  return r;
}

/**
 * Column index of the largest entry of each of `rows` rows of `cols` values, row-major from
 * `offset` (the first one on ties).
 */
export function argmaxRowsOf(data: FloatArray, offset: number, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = offset + r * cols;
    let best = 0;
    let bv = data[o] as number;
    for (let j = 1; j < cols; j++) {
      const v = data[o + j] as number;
      if (v > bv) {
        bv = v;
        best = j;
      }
    }
    out[r] = best;
  }
  return out;
}
