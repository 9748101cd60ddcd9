/**
 * Test helpers: a seeded generator and plain-array formulas. Nothing here calls the code
 * under test, so expected values computed with it are independent of the backends.
 */

/** Mulberry32: a tiny seeded generator of doubles in [0, 1) (integer arithmetic only). */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` uniform values in [lo, hi), each rounded to float32 so every backend stores them exactly. */
export function randomValues(rand: () => number, n: number, lo = -1, hi = 1): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(lo + (hi - lo) * rand());
  return out;
}

/** A row-major flat array as an array of rows. */
export function toRows(flat: ArrayLike<number>, rows: number, cols: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < rows; i++) {
    const row: number[] = [];
    for (let j = 0; j < cols; j++) row.push(flat[i * cols + j] as number);
    out.push(row);
  }
  return out;
}

/** The transpose of an array of rows. */
export function transpose(x: readonly (readonly number[])[]): number[][] {
  const rows = x.length;
  const cols = x[0]?.length ?? 0;
  const out: number[][] = [];
  for (let j = 0; j < cols; j++) {
    const row: number[] = [];
    for (let i = 0; i < rows; i++) row.push((x[i] as number[])[j] as number);
    out.push(row);
  }
  return out;
}

/**
 * `alpha * A B + beta * C` by the textbook triple loop over arrays of rows. With beta = 0
 * the previous C is ignored entirely (BLAS semantics: garbage, even NaN, is overwritten).
 */
export function naiveGemm(
  A: readonly (readonly number[])[],
  B: readonly (readonly number[])[],
  C: readonly (readonly number[])[],
  alpha: number,
  beta: number,
): number[][] {
  const m = A.length;
  const k = B.length;
  const n = (B[0] as number[]).length;
  const out: number[][] = [];
  for (let i = 0; i < m; i++) {
    const row: number[] = [];
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += (A[i] as number[])[p]! * (B[p] as number[])[j]!;
      row.push(alpha * acc + (beta === 0 ? 0 : beta * (C[i] as number[])[j]!));
    }
    out.push(row);
  }
  return out;
}

/** max over entries of |actual - expected| / (1 + |expected|); NaN if any entry is NaN. */
export function maxRelError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) {
    throw new Error(`length ${actual.length} != ${expected.length}`);
  }
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = expected[i] as number;
    const r = Math.abs((actual[i] as number) - e) / (1 + Math.abs(e));
    if (Number.isNaN(r)) return Number.NaN;
    if (r > worst) worst = r;
  }
  return worst;
}
