import { describe, expect, it } from "vitest";
import { logGamma } from "../src/log-gamma.js";
import { weibullLogMomentRatio, zetaInteger } from "../src/weibull-shape.js";

/** |a - b| <= atol + rtol |b| */
function close(a: number, b: number, rtol: number, atol = 0): boolean {
  return Math.abs(a - b) <= atol + rtol * Math.abs(b);
}

describe("logGamma", () => {
  it("matches ln((n-1)!) for n = 1..30", () => {
    let lnFactorial = 0; // ln((n-1)!)
    for (let n = 1; n <= 30; n++) {
      if (n > 1) lnFactorial += Math.log(n - 1);
      expect(close(logGamma(n), lnFactorial, 1e-14, 1e-14), `n = ${n}`).toBe(true);
    }
    expect(Math.exp(logGamma(5))).toBeCloseTo(24, 12);
  });

  it("matches the half-integer values Gamma(1/2) = sqrt(pi), Gamma(3/2) = sqrt(pi)/2, Gamma(-1/2) = -2 sqrt(pi)", () => {
    const sqrtPi = Math.sqrt(Math.PI);
    expect(close(logGamma(0.5), Math.log(sqrtPi), 1e-14)).toBe(true);
    expect(close(logGamma(1.5), Math.log(sqrtPi / 2), 1e-13)).toBe(true);
    expect(close(logGamma(-0.5), Math.log(2 * sqrtPi), 1e-14)).toBe(true);
    // Gamma(n + 1/2) = (2n)! sqrt(pi) / (4^n n!)
    let lnRatio = 0;
    for (let n = 1; n <= 20; n++) {
      lnRatio += Math.log((2 * n - 1) * (2 * n)) - Math.log(4 * n);
      expect(close(logGamma(n + 0.5), lnRatio + Math.log(sqrtPi), 1e-14), `n = ${n}`).toBe(true);
    }
  });

  it("satisfies the recurrence ln Gamma(x + 1) - ln Gamma(x) = ln x", () => {
    for (const x of [1e-6, 0.01, 0.3, 0.7, 1.3, 2.5, 7.25, 33.3, 150.5]) {
      expect(close(logGamma(x + 1) - logGamma(x), Math.log(x), 1e-12, 2e-15), `x = ${x}`).toBe(true);
    }
  });

  it("satisfies reflection Gamma(x) Gamma(1 - x) = pi / sin(pi x) and duplication", () => {
    for (const x of [0.1, 0.25, 1 / 3, 0.45]) {
      const lhs = logGamma(x) + logGamma(1 - x);
      expect(close(lhs, Math.log(Math.PI / Math.sin(Math.PI * x)), 1e-14), `x = ${x}`).toBe(true);
    }
    // Gamma(x) Gamma(x + 1/2) = 2^(1 - 2x) sqrt(pi) Gamma(2x)
    for (const x of [0.3, 1.7, 4.2, 12.9, 60]) {
      const lhs = logGamma(x) + logGamma(x + 0.5);
      const rhs = (1 - 2 * x) * Math.LN2 + 0.5 * Math.log(Math.PI) + logGamma(2 * x);
      expect(close(lhs, rhs, 1e-13, 1e-14), `x = ${x}`).toBe(true);
    }
  });

  it("agrees with Stirling's series for large x", () => {
    for (const x of [200, 1e4, 1e6]) {
      const stirling =
        (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x ** 3);
      expect(close(logGamma(x), stirling, 1e-14), `x = ${x}`).toBe(true);
    }
  });

  it("returns Infinity at the poles and NaN for NaN", () => {
    expect(logGamma(0)).toBe(Number.POSITIVE_INFINITY);
    expect(logGamma(-3)).toBe(Number.POSITIVE_INFINITY);
    expect(logGamma(Number.NaN)).toBeNaN();
  });
});

describe("zetaInteger", () => {
  it("matches the even values pi^2/6, pi^4/90, pi^6/945, pi^8/9450 to a few ulps", () => {
    expect(close(zetaInteger(2), Math.PI ** 2 / 6, 1e-15)).toBe(true);
    expect(close(zetaInteger(4), Math.PI ** 4 / 90, 1e-15)).toBe(true);
    expect(close(zetaInteger(6), Math.PI ** 6 / 945, 1e-15)).toBe(true);
    expect(close(zetaInteger(8), Math.PI ** 8 / 9450, 1e-15)).toBe(true);
  });
});

describe("weibullLogMomentRatio", () => {
  it("is ln 2 at k = 1 (exponential) and ln(4 / pi) at k = 2 (Rayleigh)", () => {
    expect(close(weibullLogMomentRatio(1), Math.LN2, 1e-14)).toBe(true);
    expect(close(weibullLogMomentRatio(0.5), Math.log(4 / Math.PI), 1e-13)).toBe(true);
  });

  it("series and log-gamma branches agree where both are accurate", () => {
    for (const x of [0.03, 0.045, 0.05]) {
      const direct = logGamma(1 + 2 * x) - 2 * logGamma(1 + x);
      expect(close(weibullLogMomentRatio(x), direct, 1e-12), `x = ${x}`).toBe(true);
    }
  });

  it("tends to zeta(2) x^2 as x -> 0", () => {
    const x = 1e-7;
    expect(close(weibullLogMomentRatio(x), (Math.PI ** 2 / 6) * x * x, 1e-6)).toBe(true);
  });
});
