import { describe, expect, it } from "vitest";
import { cauchy } from "../src/cauchy.js";
import { clamp } from "../src/clamp.js";
import { constant } from "../src/constant.js";
import { createDistribution } from "../src/create-distribution.js";
import { distributionFromJSON } from "../src/distribution-from-json.js";
import { DistributionError } from "../src/errors.js";
import { exponential } from "../src/exponential.js";
import { gamma } from "../src/gamma.js";
import { laplace } from "../src/laplace.js";
import { lognormal } from "../src/lognormal.js";
import { normal } from "../src/normal.js";
import { pareto } from "../src/pareto.js";
import { createRng } from "../src/rng.js";
import { sampleLayers } from "../src/sample-layers.js";
import { createStandardGamma } from "../src/standard-variates.js";
import { studentT } from "../src/student-t.js";
import { summarize } from "../src/summarize.js";
import { uniform } from "../src/uniform.js";
import { weibull } from "../src/weibull.js";
import { weibullShapeForCv } from "../src/weibull-shape.js";
import { catchDistributionError, MU, SIGMA } from "./support.js";

// Deliberately ill-typed calls, as JavaScript callers or parsed JSON could make them.
// biome-ignore lint/suspicious/noExplicitAny: the point is to bypass the types
const loose = (f: (...args: any[]) => unknown) => f as (...args: unknown[]) => unknown;
const base = normal({ mean: MU, sd: SIGMA });

const TABLE: [string, () => unknown, string, string][] = [
  ["lognormal sd -1", () => lognormal({ mean: MU, sd: -1 }), "lognormal", "sd"],
  ["lognormal mean 0", () => lognormal({ mean: 0, sd: SIGMA }), "lognormal", "mean"],
  ["normal sd 0", () => normal({ mean: MU, sd: 0 }), "normal", "sd"],
  ["normal mean NaN", () => normal({ mean: Number.NaN, sd: SIGMA }), "normal", "mean"],
  ["uniform sd Infinity", () => uniform({ mean: MU, sd: Number.POSITIVE_INFINITY }), "uniform", "sd"],
  ["gamma mean -0.3", () => gamma({ mean: -0.3, sd: SIGMA }), "gamma", "mean"],
  ["gamma sd / mean above the CV range", () => gamma({ mean: 1e-7, sd: 1 }), "gamma", "sd"],
  ["weibull sd / mean below the CV range", () => weibull({ mean: MU, sd: 1e-9 }), "weibull", "sd"],
  ["pareto sd as a string", () => loose(pareto)({ mean: MU, sd: "0.1" }), "pareto", "sd"],
  ["laplace options null", () => loose(laplace)(null), "laplace", "options"],
  ["exponential mean 0", () => exponential({ mean: 0 }), "exponential", "mean"],
  ["constant mean Infinity", () => constant({ mean: Number.POSITIVE_INFINITY }), "constant", "mean"],
  ["studentT nu 0", () => studentT({ mean: MU, sd: SIGMA, nu: 0 }), "studentT", "nu"],
  ["studentT nu NaN", () => studentT({ mean: MU, sd: SIGMA, nu: Number.NaN }), "studentT", "nu"],
  ["cauchy sd -0.1", () => cauchy({ mean: MU, sd: -0.1 }), "cauchy", "sd"],
  ["clamp min 0", () => clamp(base, { min: 0 }), "clamp", "min"],
  ["clamp min NaN", () => clamp(base, { min: Number.NaN }), "clamp", "min"],
  ["clamp max equal to min", () => clamp(base, { min: 0.2, max: 0.2 }), "clamp", "max"],
  ["clamp max below min", () => clamp(base, { min: 0.2, max: 0.1 }), "clamp", "max"],
  ["clamp with no float32 in [min, max]", () => clamp(base, { min: 0.1, max: 0.1 + 1e-12 }), "clamp", "max"],
  ["clamp mode wrap", () => loose(clamp)(base, { mode: "wrap" }), "clamp", "mode"],
  ["clamp of a non-distribution", () => loose(clamp)({}), "clamp", "dist"],
  ["createDistribution unknown name", () => createDistribution("gaussian", { mean: MU, sd: SIGMA }), "createDistribution", "name"],
  ["createDistribution nu for lognormal", () => createDistribution("lognormal", { mean: MU, sd: SIGMA, nu: 3 }), "createDistribution", "nu"],
  ["distributionFromJSON unknown name", () => distributionFromJSON({ name: "beta", params: {} }), "distributionFromJSON", "name"],
  ["distributionFromJSON bad sd", () => distributionFromJSON({ name: "normal", params: { mean: MU, sd: -1 } }), "distributionFromJSON", "params.sd"],
  ["sampleLayers negative size", () => sampleLayers(base, createRng(1), [10, -1]), "sampleLayers", "sizes[1]"],
  ["sampleLayers fractional size", () => sampleLayers(base, createRng(1), [2.5]), "sampleLayers", "sizes[0]"],
  ["summarize empty vector", () => summarize([]), "summarize", "values"],
  ["summarize max below min", () => summarize([0.3], { min: 0.5, max: 0.1 }), "summarize", "max"],
  ["createRng seed -1", () => createRng(-1), "createRng", "seed"],
  ["createStandardGamma shape 0", () => createStandardGamma(0), "createStandardGamma", "shape"],
  ["weibullShapeForCv cv 0", () => weibullShapeForCv(0), "weibullShapeForCv", "cv"],
];

describe("bad inputs", () => {
  const rows = TABLE.map(([label, call, fn, parameter]) => ({ label, call, fn, parameter }));
  it.each(rows)("$label: DistributionError HTS_INVALID_ARGUMENT from $fn, parameter $parameter", ({ call, fn, parameter }) => {
    const err = catchDistributionError(call);
    expect(err).toBeInstanceOf(DistributionError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("DistributionError");
    expect(err.code).toBe("HTS_INVALID_ARGUMENT");
    expect(err.parameter).toBe(parameter);
    expect(typeof err.expected).toBe("string");
    expect(err.message.startsWith(`${fn}: ${parameter} must be `)).toBe(true);
    expect(err.message).toContain(", got ");
  });

  it("writes the message as function: parameter must be expectation, got value", () => {
    const err = catchDistributionError(() => lognormal({ mean: MU, sd: -1 }));
    expect(err.message).toBe("lognormal: sd must be a finite number > 0, got -1");
    expect(err.value).toBe(-1);
    expect(err.expected).toBe("a finite number > 0");
  });
});
