import { describe, expect, it } from "vitest";
import { cauchy } from "../src/cauchy.js";
import { constant } from "../src/constant.js";
import type { Distribution } from "../src/distribution.js";
import { exponential } from "../src/exponential.js";
import { gamma } from "../src/gamma.js";
import { laplace } from "../src/laplace.js";
import { logGamma } from "../src/log-gamma.js";
import { lognormal } from "../src/lognormal.js";
import { normal } from "../src/normal.js";
import { pareto } from "../src/pareto.js";
import { createRng } from "../src/rng.js";
import { studentT } from "../src/student-t.js";
import { uniform } from "../src/uniform.js";
import { weibull } from "../src/weibull.js";
import { weibullShapeForCv } from "../src/weibull-shape.js";
import { kurtosisFromRaw, MU, mean, median, SIGMA, sd } from "./support.js";

const CVS = [1e-3, 0.05, 1 / 3, 1, 2.5, 40];

describe("derived parameters (analytic)", () => {
  it.each(CVS)("lognormal, CV %s: sigmaLog = sqrt(ln(1 + CV^2)), moments recovered", (cv) => {
    const d = lognormal({ mean: MU, sd: cv * MU });
    const { muLog, sigmaLog } = d.params;
    expect(sigmaLog).toBeCloseTo(Math.sqrt(Math.log(1 + cv * cv)), 12);
    expect(Math.exp(muLog + sigmaLog ** 2 / 2)).toBeCloseTo(MU, 14);
    // Var = (exp(s^2) - 1) exp(2 mu + s^2)
    const variance = Math.expm1(sigmaLog ** 2) * Math.exp(2 * muLog + sigmaLog ** 2);
    expect(Math.sqrt(variance) / (cv * MU)).toBeCloseTo(1, 12);
  });

  it.each(CVS)("gamma, CV %s: shape = 1/CV^2, shape * scale = mean, shape * scale^2 = sd^2", (cv) => {
    const d = gamma({ mean: MU, sd: cv * MU });
    expect(d.params.shape * cv * cv).toBeCloseTo(1, 12);
    expect(d.params.shape * d.params.scale).toBeCloseTo(MU, 14);
    expect(Math.sqrt(d.params.shape) * d.params.scale).toBeCloseTo(cv * MU, 14);
  });

  it.each(CVS)("weibull, CV %s: k solves Gamma(1+2/k)/Gamma(1+1/k)^2 = 1 + CV^2 to 1e-10", (cv) => {
    const d = weibull({ mean: MU, sd: cv * MU });
    const k = d.params.shape;
    const ratio = Math.exp(logGamma(1 + 2 / k) - 2 * logGamma(1 + 1 / k));
    expect(Math.abs(ratio - (1 + cv * cv)) / (1 + cv * cv)).toBeLessThan(1e-10);
    // the mean: scale Gamma(1 + 1/k)
    expect(d.params.scale * Math.exp(logGamma(1 + 1 / k))).toBeCloseTo(MU, 14);
  });

  it("weibull shape is exactly the exponential's (k = 1) at CV = 1, and ~ pi / (sqrt(6) CV) for small CV", () => {
    expect(weibullShapeForCv(1)).toBeCloseTo(1, 12);
    // CV^2 = zeta(2)/k^2 + O(1/k^3)  =>  k CV -> pi / sqrt(6)
    const cv = 1e-6;
    expect(weibullShapeForCv(cv) * cv).toBeCloseTo(Math.PI / Math.sqrt(6), 5);
  });

  it.each(CVS)("pareto, CV %s: a = 1 + sqrt(1 + 1/CV^2); a x_m/(a-1) = mean; variance matches", (cv) => {
    const d = pareto({ mean: MU, sd: cv * MU });
    const a = d.params.shape;
    const xm = d.params.xm;
    expect(a).toBeCloseTo(1 + Math.sqrt(1 + 1 / (cv * cv)), 12);
    expect((a * xm) / (a - 1)).toBeCloseTo(MU, 14);
    const variance = (xm * xm * a) / ((a - 1) ** 2 * (a - 2));
    expect(Math.sqrt(variance) / (cv * MU)).toBeCloseTo(1, 8);
  });

  it("uniform on [mu - sqrt(3) sigma, mu + sqrt(3) sigma]; laplace scale sigma / sqrt(2); student-t and cauchy location-scale", () => {
    const u = uniform({ mean: MU, sd: SIGMA });
    expect((u.params.low + u.params.high) / 2).toBeCloseTo(MU, 15);
    expect((u.params.high - u.params.low) / Math.sqrt(12)).toBeCloseTo(SIGMA, 15);
    expect(laplace({ mean: MU, sd: SIGMA }).params.scale * Math.SQRT2).toBeCloseTo(SIGMA, 15);
    const t = studentT({ mean: MU, sd: SIGMA });
    expect(t.params).toMatchObject({ nu: 3, location: MU, scale: SIGMA });
    expect(t.sd).toBeCloseTo(SIGMA * Math.sqrt(3), 15);
    expect(studentT({ mean: MU, sd: SIGMA, nu: 2 }).sd).toBeUndefined();
    expect(studentT({ mean: MU, sd: SIGMA, nu: 1 }).mean).toBeUndefined();
    const c = cauchy({ mean: MU, sd: SIGMA });
    expect(c.params).toMatchObject({ location: MU, scale: SIGMA });
    expect(c.mean).toBeUndefined();
    expect(c.sd).toBeUndefined();
    expect(exponential({ mean: MU }).sd).toBe(MU);
    expect(constant({ mean: MU }).sd).toBe(0);
  });
});

/** Raw moments E[X^r], r = 1..4, from each distribution's closed form. */
function rawMoments(d: Distribution): [number, number, number, number] {
  const p = d.params as Record<string, number>;
  const each = (f: (k: number) => number): [number, number, number, number] => [f(1), f(2), f(3), f(4)];
  switch (d.name) {
    case "uniform":
      return each((k) => (p.high! ** (k + 1) - p.low! ** (k + 1)) / ((k + 1) * (p.high! - p.low!)));
    case "normal": {
      const [m, s] = [p.mean!, p.sd!];
      return [m, m ** 2 + s ** 2, m ** 3 + 3 * m * s ** 2, m ** 4 + 6 * m ** 2 * s ** 2 + 3 * s ** 4];
    }
    case "lognormal":
      return each((k) => Math.exp(k * p.muLog! + (k * k * p.sigmaLog! ** 2) / 2));
    case "gamma":
      return each((k) => p.scale! ** k * Math.exp(logGamma(p.shape! + k) - logGamma(p.shape!)));
    case "weibull":
      return each((k) => p.scale! ** k * Math.exp(logGamma(1 + k / p.shape!)));
    case "laplace": {
      // location m, scale b: central moments 0, 2b^2, 0, 24b^4
      const [m, b] = [p.location!, p.scale!];
      return [m, m ** 2 + 2 * b ** 2, m ** 3 + 6 * m * b ** 2, m ** 4 + 12 * m ** 2 * b ** 2 + 24 * b ** 4];
    }
    case "pareto":
      return each((k) => (p.shape! * p.xm! ** k) / (p.shape! - k));
    case "exponential":
      return each((k) => Math.exp(logGamma(k + 1)) * p.mean! ** k);
    default:
      throw new Error(`no closed form here for ${d.name}`);
  }
}

describe("sample moments (default mu 0.3, sigma 0.1)", () => {
  const N = 400_000;
  const cases: [string, number, Distribution][] = [
    ["uniform", 11, uniform({ mean: MU, sd: SIGMA })],
    ["normal", 12, normal({ mean: MU, sd: SIGMA })],
    ["lognormal", 13, lognormal({ mean: MU, sd: SIGMA })],
    ["gamma", 14, gamma({ mean: MU, sd: SIGMA })],
    ["gamma with shape < 1 (sd 0.6)", 15, gamma({ mean: MU, sd: 0.6 })],
    ["weibull", 16, weibull({ mean: MU, sd: SIGMA })],
    ["laplace", 17, laplace({ mean: MU, sd: SIGMA })],
    ["pareto", 18, pareto({ mean: MU, sd: SIGMA })],
    ["exponential", 19, exponential({ mean: MU })],
  ];

  it.each(cases)("%s, seed %i: mean and sd within 5 standard errors of the analytic ones", (_label, seed, d) => {
    const x = d.sample(createRng(seed), new Float64Array(N));
    const m = d.mean!;
    const s = d.sd!;
    const [m1, m2, m3, m4] = rawMoments(d);
    // the closed forms agree with the advertised moments
    expect(m1).toBeCloseTo(m, 12);
    expect(Math.sqrt(m2 - m1 * m1) / s).toBeCloseTo(1, 8);
    const kurtosis = kurtosisFromRaw(m1, m2, m3, m4);
    const seMean = s / Math.sqrt(N);
    const seSd = s * Math.sqrt((kurtosis - 1) / (4 * N));
    expect(Math.abs(mean(x) - m)).toBeLessThan(5 * seMean);
    expect(Math.abs(sd(x) - s)).toBeLessThan(5 * seSd);
  });

  it("exponential: sd is not a parameter; its mean is the given mean", () => {
    expect(exponential({ mean: MU }).params).toEqual({ mean: MU });
  });

  it("student-t(3), seed 21: sample mean and median near the location 0.3", () => {
    const d = studentT({ mean: MU, sd: SIGMA });
    const x = d.sample(createRng(21), new Float64Array(N));
    // sd of t(3) is scale sqrt(3); density at the median is Gamma(2) / (sqrt(3 pi) Gamma(3/2) scale)
    expect(Math.abs(mean(x) - MU)).toBeLessThan((5 * SIGMA * Math.sqrt(3)) / Math.sqrt(N));
    const f0 = 1 / (Math.sqrt(3 * Math.PI) * Math.exp(logGamma(1.5)) * SIGMA);
    expect(Math.abs(median(x) - MU)).toBeLessThan(5 / (2 * f0 * Math.sqrt(N)));
  });

  it("cauchy, seed 22: sample median near the location 0.3, quartiles at location -/+ scale", () => {
    const d = cauchy({ mean: MU, sd: SIGMA });
    const x = Float64Array.from(d.sample(createRng(22), new Float64Array(N))).sort();
    // density at the median 1 / (pi scale): se of the median pi scale / (2 sqrt(N))
    const se = (Math.PI * SIGMA) / (2 * Math.sqrt(N));
    expect(Math.abs(median(x) - MU)).toBeLessThan(5 * se);
    // density at the quartiles 1 / (2 pi scale): se sqrt(3/16) / (f sqrt(N))
    const seQ = (Math.sqrt(3 / 16) * 2 * Math.PI * SIGMA) / Math.sqrt(N);
    expect(Math.abs(x[Math.floor(N / 4)]! - (MU - SIGMA))).toBeLessThan(5 * seQ);
    expect(Math.abs(x[Math.floor((3 * N) / 4)]! - (MU + SIGMA))).toBeLessThan(5 * seQ);
  });

  it("constant: every value is the mean and no randomness is used (seed 23)", () => {
    const rng = createRng(23);
    const before = rng.getState();
    const x = constant({ mean: MU }).sample(rng, new Float64Array(100));
    expect(x.every((v) => v === MU)).toBe(true);
    expect(rng.getState()).toEqual(before);
  });
});
