import { describe, expect, it } from "vitest";
import { clamp } from "../src/clamp.js";
import { createDistribution } from "../src/create-distribution.js";
import { distributionFromJSON } from "../src/distribution-from-json.js";
import { DistributionError } from "../src/errors.js";
import { lognormal } from "../src/lognormal.js";
import { DISTRIBUTION_NAMES, isDistributionName } from "../src/names.js";
import { catchDistributionError, MU, SIGMA } from "./support.js";

describe("names and createDistribution", () => {
  it("has the eleven names of SPEC section 5, each mapped to a factory of that name", () => {
    expect([...DISTRIBUTION_NAMES].sort()).toEqual(
      ["cauchy", "constant", "exponential", "gamma", "laplace", "lognormal", "normal", "pareto", "student-t", "uniform", "weibull"].sort(),
    );
    for (const name of DISTRIBUTION_NAMES) {
      expect(isDistributionName(name)).toBe(true);
      const d = createDistribution(name, { mean: MU, sd: SIGMA });
      expect(d.name).toBe(name);
      expect(d.toJSON().name).toBe(name);
    }
    expect(isDistributionName("gaussian")).toBe(false);
  });

  it("lists the allowed names when the name is unknown", () => {
    const err = catchDistributionError(() => createDistribution("gaussian", { mean: MU, sd: SIGMA }));
    expect(err.code).toBe("HTS_INVALID_ARGUMENT");
    expect(err.parameter).toBe("name");
    for (const name of DISTRIBUTION_NAMES) expect(err.message).toContain(name);
  });

  it("drops sd for constant and exponential, passes nu to student-t only", () => {
    expect(createDistribution("exponential", { mean: MU, sd: SIGMA }).params).toEqual({ mean: MU });
    expect(createDistribution("constant", { mean: MU, sd: SIGMA }).params).toEqual({ mean: MU });
    expect(createDistribution("student-t", { mean: MU, sd: SIGMA, nu: 5 }).params.nu).toBe(5);
    expect(createDistribution("student-t", { mean: MU, sd: SIGMA }).params.nu).toBe(3);
    expect(catchDistributionError(() => createDistribution("normal", { mean: MU, sd: SIGMA, nu: 5 })).parameter).toBe("nu");
  });
});

describe("toJSON and distributionFromJSON", () => {
  it("toJSON is plain JSON: it survives JSON.stringify / JSON.parse unchanged, params are frozen", () => {
    for (const name of DISTRIBUTION_NAMES) {
      const d = clamp(createDistribution(name, { mean: MU, sd: SIGMA }), { min: 0.01, max: 0.6, mode: "resample" });
      const json = d.toJSON();
      expect(JSON.parse(JSON.stringify(d))).toEqual(json);
      expect(Object.isFrozen(d.params)).toBe(true);
    }
  });

  it("exposes the derived parameters in the JSON record", () => {
    const json = lognormal({ mean: MU, sd: SIGMA }).toJSON();
    expect(Object.keys(json.params).sort()).toEqual(["mean", "muLog", "sd", "sigmaLog"]);
  });

  it("accepts a hand-written record with the inputs only", () => {
    const d = distributionFromJSON({ name: "weibull", params: { mean: MU, sd: SIGMA }, clamp: { min: 0.001, max: 0.5, mode: "clip" } });
    expect(d.params.shape).toBe(createDistribution("weibull", { mean: MU, sd: SIGMA }).params.shape);
    expect(d.clamp).toEqual({ min: 0.001, max: 0.5, mode: "clip" });
  });

  it.each([
    ["unknown name", { name: "beta", params: { mean: MU, sd: SIGMA } }, "name"],
    ["not an object", "lognormal", "json"],
    ["params missing", { name: "normal" }, "params"],
    ["bad input", { name: "gamma", params: { mean: MU, sd: -1 } }, "params.sd"],
    ["missing input", { name: "gamma", params: { mean: MU } }, "params.sd"],
    ["unknown parameter", { name: "normal", params: { mean: MU, sd: SIGMA, skew: 1 } }, "params.skew"],
    ["sd recorded for exponential", { name: "exponential", params: { mean: MU, sd: SIGMA } }, "params.sd"],
    ["nu for lognormal", { name: "lognormal", params: { mean: MU, sd: SIGMA, nu: 3 } }, "params.nu"],
    ["derived parameter that does not match", { name: "gamma", params: { mean: MU, sd: SIGMA, shape: 8, scale: 0.0375 } }, "params.shape"],
    ["derived parameter of the wrong type", { name: "pareto", params: { mean: MU, sd: SIGMA, xm: "0.2" } }, "params.xm"],
    ["unknown top-level key", { name: "normal", params: { mean: MU, sd: SIGMA }, seed: 1 }, "seed"],
    ["clamp without mode", { name: "normal", params: { mean: MU, sd: SIGMA }, clamp: { min: 0.001, max: 0.5 } }, "clamp.mode"],
    ["clamp with bad max", { name: "normal", params: { mean: MU, sd: SIGMA }, clamp: { min: 0.001, max: 0.0001, mode: "clip" } }, "clamp.max"],
    ["clamp with extra key", { name: "normal", params: { mean: MU, sd: SIGMA }, clamp: { min: 0.001, max: 0.5, mode: "clip", tries: 3 } }, "clamp.tries"],
  ] as const)("refuses %s", (_label, json, parameter) => {
    const err = catchDistributionError(() => distributionFromJSON(json));
    expect(err).toBeInstanceOf(DistributionError);
    expect(err.code).toBe("HTS_INVALID_ARGUMENT");
    expect(err.parameter).toBe(parameter);
    expect(err.message.startsWith("distributionFromJSON: ")).toBe(true);
    expect(err.message).toContain(parameter);
  });

  it("lists the allowed names for an unknown name", () => {
    const err = catchDistributionError(() => distributionFromJSON({ name: "beta", params: {} }));
    for (const name of DISTRIBUTION_NAMES) expect(err.message).toContain(name);
  });
});
