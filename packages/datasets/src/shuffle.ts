import { DatasetError } from "./errors.js";

const TWO_32 = 0x1_0000_0000;

/** Checks that a seed is an integer in [0, 2^32); internal. */
export function checkSeed(fn: string, seed: unknown): void {
  if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new DatasetError(
      "HTS_INVALID_ARGUMENT",
      `${fn}: seed must be an integer in [0, 4294967295], got ${String(seed)}`,
      { parameter: "seed", value: seed, expected: "integer in [0, 4294967295]" },
    );
  }
}

/**
 * The Mulberry32 generator (Tommy Ettinger, 2017): a 32-bit state advanced by the
 * constant `0x6D2B79F5`, each output an integer hash of the state. Integer operations
 * only, so the sequence is the same on every machine and JavaScript engine.
 *
 * @param seed - Initial state, an integer in [0, 2^32).
 * @returns A function giving the next uniform integer in [0, 2^32) at each call.
 * @throws {@link DatasetError} `HTS_INVALID_ARGUMENT` for a bad seed.
 */
export function mulberry32(seed: number): () => number {
  checkSeed("mulberry32", seed);
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A uniform integer in [0, bound) by rejection: draws at or above the largest multiple of `bound` below 2^32 are discarded. */
function below(next: () => number, bound: number): number {
  const limit = TWO_32 - (TWO_32 % bound);
  for (;;) {
    const x = next();
    if (x < limit) return x % bound;
  }
}

/**
 * A seeded uniform permutation of `0..n-1`.
 *
 * Algorithm: start from the identity; for `i` from `n - 1` down to 1, draw `j` uniform in
 * `[0, i]` and swap entries `i` and `j` (Fisher-Yates). Each `j` is `x mod (i + 1)` for
 * the first Mulberry32 output `x` (see {@link mulberry32}, seeded with `seed`) below the
 * largest multiple of `i + 1` not above 2^32, so there is no modulo bias.
 *
 * @param n - Length, an integer in [0, 2^32).
 * @param seed - An integer in [0, 2^32).
 * @throws {@link DatasetError} `HTS_INVALID_ARGUMENT` for a bad length or seed.
 */
export function seededPermutation(n: number, seed: number): Uint32Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new DatasetError(
      "HTS_INVALID_ARGUMENT",
      `seededPermutation: n must be an integer in [0, 4294967295], got ${String(n)}`,
      { parameter: "n", value: n, expected: "integer in [0, 4294967295]" },
    );
  }
  checkSeed("seededPermutation", seed);
  const next = mulberry32(seed);
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = below(next, i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}
