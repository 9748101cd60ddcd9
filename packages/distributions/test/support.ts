import { DistributionError } from "../src/errors.js";
import type { Rng } from "../src/rng.js";

/** SPEC section 5 defaults. */
export const MU = 0.3;
export const SIGMA = 0.1;
export const DT_MIN = 1e-3;
export const DT_MAX = 0.5;

export function mean(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s / x.length;
}

export function sd(x: ArrayLike<number>): number {
  const m = mean(x);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i]! - m) ** 2;
  return Math.sqrt(s / x.length);
}

export function median(x: ArrayLike<number>): number {
  const sorted = Float64Array.from(x).sort();
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/** Kurtosis (not excess) from the raw moments E[X], E[X^2], E[X^3], E[X^4]. */
export function kurtosisFromRaw(m1: number, m2: number, m3: number, m4: number): number {
  const variance = m2 - m1 * m1;
  const central4 = m4 - 4 * m3 * m1 + 6 * m2 * m1 * m1 - 3 * m1 ** 4;
  return central4 / (variance * variance);
}

/** Runs `fn`, expects a DistributionError, returns it. */
export function catchDistributionError(fn: () => unknown): DistributionError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DistributionError) return error;
    throw new Error(`expected a DistributionError, got ${String(error)}`);
  }
  throw new Error("expected a DistributionError, nothing was thrown");
}

// Independent re-statements of the documented sampling formulas (README "Numerics").

/** u = (floor(2^52 U) + 1/2) / 2^52. */
export function refOpenUniform(rng: Rng): number {
  return (Math.floor(rng.uniform() * 2 ** 52) + 0.5) / 2 ** 52;
}

/** Marsaglia polar method, first value of the pair. */
export function refNormal(rng: Rng): number {
  for (;;) {
    const v1 = 2 * rng.uniform() - 1;
    const v2 = 2 * rng.uniform() - 1;
    const s = v1 * v1 + v2 * v2;
    if (s < 1 && s !== 0) return v1 * Math.sqrt((-2 * Math.log(s)) / s);
  }
}

/** Marsaglia-Tsang Gamma(a, 1), with the u^(1/a) boost for a < 1. */
export function refGamma(rng: Rng, a: number): number {
  if (a < 1) {
    const g = refGamma(rng, a + 1);
    return g * refOpenUniform(rng) ** (1 / a);
  }
  const d = a - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x = refNormal(rng);
    let v = 1 + c * x;
    while (v <= 0) {
      x = refNormal(rng);
      v = 1 + c * x;
    }
    v = v * v * v;
    const u = rng.uniform();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}
