import { logGamma } from "./log-gamma.js";
import { requirePositive } from "./validate.js";

/** Below this x = 1/k the log-ratio is summed as a zeta series instead of two log-gammas. */
const SERIES_MAX_X = 0.05;
const SERIES_TERMS = 24;
/** Bernoulli numbers B_2, B_4, ..., B_12 for the Euler-Maclaurin tail of zeta. */
const BERNOULLI = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730] as const;

/**
 * Riemann zeta(n) for an integer n >= 2: the first 15 terms summed, the tail from j = 16
 * by Euler-Maclaurin with Bernoulli terms up to B_12 (error below 1e-17 relative).
 */
export function zetaInteger(n: number): number {
  const N = 16;
  let head = 0;
  for (let j = N - 1; j >= 1; j--) head += j ** -n;
  let tail = N ** (1 - n) / (n - 1) + N ** -n / 2;
  let rising = n; // n (n + 1) ... (n + 2m - 2)
  let factorial = 2; // (2m)!
  for (let m = 1; m <= BERNOULLI.length; m++) {
    tail += (BERNOULLI[m - 1]! / factorial) * rising * N ** (-n - 2 * m + 1);
    rising *= (n + 2 * m - 1) * (n + 2 * m);
    factorial *= (2 * m + 1) * (2 * m + 2);
  }
  return head + tail;
}

let seriesCoefficients: Float64Array | undefined;

/** c_n = (-1)^n zeta(n) (2^n - 2) / n for n = 2..SERIES_TERMS + 1, computed once. */
function coefficients(): Float64Array {
  if (seriesCoefficients === undefined) {
    const c = new Float64Array(SERIES_TERMS + 2);
    for (let n = 2; n < c.length; n++) c[n] = ((n % 2 === 0 ? 1 : -1) * zetaInteger(n) * (2 ** n - 2)) / n;
    seriesCoefficients = c;
  }
  return seriesCoefficients;
}

/**
 * ln( Gamma(1 + 2x) / Gamma(1 + x)^2 ), which is ln(1 + CV^2) of a Weibull with shape
 * k = 1/x. For small x the two log-gammas nearly cancel, so there it sums the series
 * sum_{n>=2} (-1)^n zeta(n) (2^n - 2) / n x^n (the linear terms cancel exactly).
 */
export function weibullLogMomentRatio(x: number): number {
  if (x <= SERIES_MAX_X) {
    const c = coefficients();
    let s = 0;
    for (let n = c.length - 1; n >= 2; n--) s = (s + c[n]!) * x;
    return s * x;
  }
  return logGamma(1 + 2 * x) - 2 * logGamma(1 + x);
}

/**
 * The Weibull shape k whose coefficient of variation is `cv`: the root of
 * Gamma(1 + 2/k) / Gamma(1 + 1/k)^2 = 1 + cv^2, found by bisection on the log form
 * (the left side decreases in k) down to adjacent doubles. Accurate for cv in [1e-6, 1e6].
 */
export function weibullShapeForCv(cv: number): number {
  requirePositive("weibullShapeForCv", "cv", cv);
  const target = Math.log1p(cv * cv);
  const f = (k: number): number => weibullLogMomentRatio(1 / k) - target;
  let lo = 1;
  let hi = 1;
  if (f(1) > 0) {
    do hi *= 2;
    while (f(hi) > 0 && hi < 1e300);
    lo = hi / 2;
  } else {
    do lo /= 2;
    while (f(lo) <= 0 && lo > 1e-300);
    hi = lo * 2;
  }
  for (;;) {
    const mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) break;
    if (f(mid) > 0) lo = mid;
    else hi = mid;
  }
  return Math.abs(f(lo)) <= Math.abs(f(hi)) ? lo : hi;
}
