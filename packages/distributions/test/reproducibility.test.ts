import { describe, expect, it } from "vitest";
import { cauchy } from "../src/cauchy.js";
import { clamp } from "../src/clamp.js";
import { createDistribution } from "../src/create-distribution.js";
import type { Distribution } from "../src/distribution.js";
import { distributionFromJSON } from "../src/distribution-from-json.js";
import { exponential } from "../src/exponential.js";
import { gamma } from "../src/gamma.js";
import { laplace } from "../src/laplace.js";
import { lognormal } from "../src/lognormal.js";
import { DISTRIBUTION_NAMES } from "../src/names.js";
import { normal } from "../src/normal.js";
import { pareto } from "../src/pareto.js";
import { createRng, restoreRng } from "../src/rng.js";
import { sampleLayers } from "../src/sample-layers.js";
import { studentT } from "../src/student-t.js";
import { uniform } from "../src/uniform.js";
import { weibull } from "../src/weibull.js";
import { MU, refGamma, refNormal, refOpenUniform, SIGMA } from "./support.js";

/** Every built-in at the defaults, plain and clamped both ways. */
function allDistributions(): Distribution[] {
  const out: Distribution[] = [];
  for (const name of DISTRIBUTION_NAMES) {
    const d = createDistribution(name, { mean: MU, sd: SIGMA });
    out.push(d, clamp(d), clamp(d, { min: 0.2, max: 0.4, mode: "resample" }));
  }
  return out;
}

const label = (d: Distribution): string => JSON.stringify(d.toJSON().clamp ?? "unclamped");

describe("same seed, same draws", () => {
  it.each(allDistributions().map((d) => [d.name, label(d), d] as const))(
    "%s %s: seed 41 twice gives identical vectors; seed 42 differs",
    (name, _clamp, d) => {
      const a = d.sample(createRng(41), new Float64Array(1000));
      const b = d.sample(createRng(41), new Float64Array(1000));
      expect(b).toEqual(a);
      if (name !== "constant") {
        expect(d.sample(createRng(42), new Float64Array(1000))).not.toEqual(a);
      }
    },
  );

  it.each(allDistributions().map((d) => [d.name, label(d), d] as const))(
    "%s %s: seed 43, saving and restoring the generator replays the draws",
    (_name, _clamp, d) => {
      const rng = createRng(43);
      d.sample(rng, new Float64Array(37));
      const saved = JSON.parse(JSON.stringify(rng.getState()));
      const first = d.sample(rng, new Float64Array(200));
      const replay = d.sample(restoreRng(saved), new Float64Array(200));
      expect(replay).toEqual(first);
    },
  );

  it.each(allDistributions().map((d) => [d.name, label(d), d] as const))(
    "%s %s: seed 44, one call of 300 equals calls of 1, 99 and 200; float32 is the float64 rounded",
    (_name, _clamp, d) => {
      const whole = d.sample(createRng(44), new Float64Array(300));
      const rng = createRng(44);
      const parts = [1, 99, 200].flatMap((n) => [...d.sample(rng, new Float64Array(n))]);
      expect(Float64Array.from(parts)).toEqual(whole);
      const single = d.sample(createRng(44), new Float32Array(300));
      // where rounding to float32 would cross a bound (0.4 is not a float32), the value
      // moves to the nearest float32 inside, one float32 step at most
      single.forEach((v, i) => {
        const r = Math.fround(whole[i]!);
        const c = d.clamp;
        if (c === undefined || (r >= c.min && r <= c.max)) expect(v).toBe(r);
        else expect(Math.abs(v - r)).toBeLessThanOrEqual(2 ** -23 * r);
      });
    },
  );

  it.each(allDistributions().map((d) => [d.name, label(d), d] as const))(
    "%s %s: seed 45, the JSON round trip rebuilds a distribution with identical draws",
    (_name, _clamp, d) => {
      const rebuilt = distributionFromJSON(JSON.parse(JSON.stringify(d)));
      expect(rebuilt.toJSON()).toEqual(d.toJSON());
      expect(rebuilt.sample(createRng(45), new Float64Array(500))).toEqual(d.sample(createRng(45), new Float64Array(500)));
    },
  );
});

describe("bit-exact draws recomputed from the documented formulas (seed 46)", () => {
  const N = 2000;
  /** Draws from `d` and from `formula` with two generators of the same seed; every value must match bit for bit. */
  function expectBitExact(d: Distribution, formula: (rng: ReturnType<typeof createRng>) => number): void {
    const got = d.sample(createRng(46), new Float64Array(N));
    const rng = createRng(46);
    for (let i = 0; i < N; i++) {
      const want = formula(rng);
      if (!Object.is(got[i], want)) throw new Error(`${d.name} draw ${i}: got ${got[i]}, formula gives ${want}`);
    }
  }
  const cv = SIGMA / MU;

  it("uniform: low + (high - low) U", () => {
    const low = MU - Math.sqrt(3) * SIGMA;
    const high = MU + Math.sqrt(3) * SIGMA;
    expectBitExact(uniform({ mean: MU, sd: SIGMA }), (rng) => low + (high - low) * rng.uniform());
  });

  it("normal: mu + sigma Z, Z by the polar method", () => {
    expectBitExact(normal({ mean: MU, sd: SIGMA }), (rng) => MU + SIGMA * refNormal(rng));
  });

  it("lognormal: exp(muLog + sigmaLog Z)", () => {
    const s = Math.sqrt(Math.log1p(cv * cv));
    const m = Math.log(MU) - (s * s) / 2;
    expectBitExact(lognormal({ mean: MU, sd: SIGMA }), (rng) => Math.exp(m + s * refNormal(rng)));
  });

  it("gamma: scale G, G by Marsaglia-Tsang (shape 9, and shape 0.25 with the boost)", () => {
    expectBitExact(gamma({ mean: MU, sd: SIGMA }), (rng) => ((SIGMA * SIGMA) / MU) * refGamma(rng, 1 / (cv * cv)));
    expectBitExact(gamma({ mean: MU, sd: 2 * MU }), (rng) => ((4 * MU * MU) / MU) * refGamma(rng, 1 / 4));
  });

  it("weibull: scale (-ln(1 - u))^(1/k)", () => {
    const d = weibull({ mean: MU, sd: SIGMA });
    const { shape, scale } = d.params;
    expectBitExact(d, (rng) => scale * (-Math.log(1 - refOpenUniform(rng))) ** (1 / shape));
  });

  it("laplace: mu + b ln(2u) below 1/2, mu - b ln(2 - 2u) above", () => {
    const b = SIGMA / Math.SQRT2;
    expectBitExact(laplace({ mean: MU, sd: SIGMA }), (rng) => {
      const u = refOpenUniform(rng);
      return u < 0.5 ? MU + b * Math.log(2 * u) : MU - b * Math.log(2 - 2 * u);
    });
  });

  it("exponential: -mu ln(1 - u)", () => {
    expectBitExact(exponential({ mean: MU }), (rng) => -MU * Math.log(1 - refOpenUniform(rng)));
  });

  it("pareto: x_m (1 - u)^(-1/a)", () => {
    const a = 1 + Math.sqrt(1 + 1 / (cv * cv));
    const xm = (MU * (a - 1)) / a;
    expectBitExact(pareto({ mean: MU, sd: SIGMA }), (rng) => xm * (1 - refOpenUniform(rng)) ** (-1 / a));
  });

  it("student-t: mu + sigma Z / sqrt(V / nu), Z first, V = 2 Gamma(nu / 2)", () => {
    for (const nu of [3, 1.5]) {
      expectBitExact(studentT({ mean: MU, sd: SIGMA, nu }), (rng) => {
        const z = refNormal(rng);
        const v = 2 * refGamma(rng, nu / 2);
        return MU + (SIGMA * z) / Math.sqrt(v / nu);
      });
    }
  });

  it("cauchy: mu + sigma sin(t) / cos(t), t = pi (u - 1/2)", () => {
    expectBitExact(cauchy({ mean: MU, sd: SIGMA }), (rng) => {
      const t = Math.PI * (refOpenUniform(rng) - 0.5);
      return MU + (SIGMA * Math.sin(t)) / Math.cos(t);
    });
  });
});

describe("sampleLayers", () => {
  it("seed 47: draws layer 1, then layer 2, ... from one generator, in float64 stored as float32", () => {
    const d = clamp(lognormal({ mean: MU, sd: SIGMA }));
    const sizes = [500, 0, 10, 3];
    const layers = sampleLayers(d, createRng(47), sizes);
    expect(layers.map((l) => l.length)).toEqual(sizes);
    expect(layers.every((l) => l instanceof Float32Array)).toBe(true);
    const flat = d.sample(createRng(47), new Float64Array(513));
    expect(Float32Array.from(layers.flatMap((l) => [...l]))).toEqual(Float32Array.from(flat));
  });
});
