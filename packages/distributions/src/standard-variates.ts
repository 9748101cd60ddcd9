import type { Rng } from "./rng.js";
import { requirePositive } from "./validate.js";

const TWO_POW_52 = 4503599627370496;

/**
 * A uniform draw on the open interval (0, 1), from one `rng.uniform()`:
 * u = (floor(2^52 U) + 1/2) / 2^52. Every step is exact in float64, the grid is symmetric
 * about 1/2, and both 1 - u and u are > 0, so inverse CDFs never see log(0).
 */
export function openUniform(rng: Rng): number {
  return (Math.floor(rng.uniform() * TWO_POW_52) + 0.5) / TWO_POW_52;
}

/**
 * A standard normal draw by the Marsaglia polar method: draw v1, v2 = 2U - 1 until
 * s = v1^2 + v2^2 is in (0, 1), return v1 sqrt(-2 ln(s) / s). The second normal of the pair
 * is discarded so that the generator state alone determines the next draw (saving and
 * restoring the generator replays exactly). Uses +, -, *, /, Math.sqrt and Math.log only.
 */
export function standardNormal(rng: Rng): number {
  let v1: number;
  let s: number;
  do {
    v1 = 2 * rng.uniform() - 1;
    const v2 = 2 * rng.uniform() - 1;
    s = v1 * v1 + v2 * v2;
  } while (s >= 1 || s === 0);
  return v1 * Math.sqrt((-2 * Math.log(s)) / s);
}

/**
 * Returns a sampler of Gamma(shape, 1), validating `shape` (finite, > 0) once.
 *
 * Marsaglia and Tsang (2000): with d = a - 1/3 and c = 1 / sqrt(9 d), draw a standard normal
 * x (polar method) until v = (1 + c x)^3 > 0, then a uniform u; accept d v when
 * u < 1 - 0.0331 x^4 or ln(u) < x^2 / 2 + d (1 - v + ln v), else start over. For shape
 * a < 1 it draws Gamma(a + 1) this way and multiplies by u^(1/a), with u from
 * {@link openUniform} drawn after it (the boost).
 */
export function createStandardGamma(shape: number): (rng: Rng) => number {
  requirePositive("createStandardGamma", "shape", shape);
  const boosted = shape < 1;
  const a = boosted ? shape + 1 : shape;
  const d = a - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  const invShape = 1 / shape;
  const core = (rng: Rng): number => {
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = standardNormal(rng);
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = rng.uniform();
      const x2 = x * x;
      if (u < 1 - 0.0331 * x2 * x2) return d * v;
      if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
    }
  };
  if (!boosted) return core;
  return (rng: Rng): number => {
    const g = core(rng);
    return g * openUniform(rng) ** invShape;
  };
}
