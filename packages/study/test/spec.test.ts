import { constant } from "@hts/distributions";
import { describe, expect, it } from "vitest";
import { checkRunConfig, createRunSpec, flagsOfRunConfig, RUN_DEFAULTS, RUN_FLAGS, registerDistribution, runSpecFromFlags, StudyError, validateRunSpec } from "../src/index.js";

/** The StudyError a call throws. */
function caught(fn: () => unknown): StudyError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StudyError) return e;
    throw e;
  }
  throw new Error("expected a StudyError");
}

describe("RunSpec", () => {
  it("createRunSpec fills the defaults of hts train, copying (no sharing with RUN_DEFAULTS or the input)", () => {
    const input = { arch: [784, 16, 10], dt: { dist: "gamma" } };
    const spec = createRunSpec(input);
    expect(spec).toEqual({ ...RUN_DEFAULTS, arch: [784, 16, 10], dt: { ...RUN_DEFAULTS.dt, dist: "gamma" } });
    spec.lr[0] = 9;
    input.arch[1] = 3;
    expect(RUN_DEFAULTS.lr[0]).toBe(0.2);
    expect(spec.arch[1]).toBe(16);
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
  });

  it("the flag defaults are the RunSpec defaults", () => {
    expect(runSpecFromFlags({})).toEqual(RUN_DEFAULTS);
    for (const [flag, f] of Object.entries(RUN_FLAGS)) if (f.kind === "value" && f.default === undefined) expect(["train-size", "test-size", "init"]).toContain(flag);
  });

  it.each([
    [{ epochs: 0 }, "epochs", 0, /^epochs: expected an integer >= 1, got 0$/],
    [{ lr: [0.1] }, "lr", [0.1], /^lr: expected 2 rate\(s\), one per weight layer of arch 784,500,10, got \[0\.1\]$/],
    [{ dt: { min: 0.4, max: 0.2 } }, "dt.max", 0.2, /^dt\.max: expected a number > dt\.min \(0\.4\), got 0\.2$/],
    [{ dt: { dist: "beta" } }, "dt.dist", "beta", /^dt\.dist: expected one of constant, .*, got "beta"$/],
    [{ nudge: "both" }, "nudge", "both", /^nudge: expected one of one-sided, random-sign, symmetric, got "both"$/],
    [{ backend: "tpu" }, "backend", "tpu", /^backend: expected one of auto, gpu, wasm, cpu, reference, got "tpu"$/],
    [{ arch: [784, 10], cost: "ce", lr: [0.1] }, "arch", [784, 10], /^arch: with cost ce the last entry is the read-out's classes/],
    [{ epochz: 3 }, "epochz", 3, /^epochz: expected no such field/],
  ])("%j is refused naming the field, the value and what is allowed", (input, parameter, value, message) => {
    const e = caught(() => createRunSpec(input as never));
    expect(e.code).toBe("HTS_INVALID_ARGUMENT");
    expect(e.parameter).toBe(parameter);
    expect(e.value).toEqual(value);
    expect(e.expected.length).toBeGreaterThan(0);
    expect(e.message).toMatch(message);
  });

  it("validateRunSpec refuses a spec changed after creation", () => {
    const spec = createRunSpec();
    spec.t1 = 1.5;
    expect(caught(() => validateRunSpec(spec)).parameter).toBe("t1");
  });

  it("a registered distribution may be named; a built-in name cannot be registered", () => {
    expect(caught(() => createRunSpec({ dt: { dist: "half-constant" } })).parameter).toBe("dt.dist");
    registerDistribution("half-constant", ({ mean }) => constant({ mean: mean / 2 }));
    expect(createRunSpec({ dt: { dist: "half-constant" } }).dt.dist).toBe("half-constant");
    expect(caught(() => registerDistribution("gamma", ({ mean }) => constant({ mean }))).parameter).toBe("name");
  });
});

describe("runSpecFromFlags", () => {
  it("parses the flag form as hts train does", () => {
    const spec = runSpecFromFlags({ arch: "784,32,10", lr: "0.1, 0.05", "no-shuffle": true, persistent: true, "dt-dist": "gamma", "train-size": "400", seed: "7" });
    expect(spec).toMatchObject({ arch: [784, 32, 10], lr: [0.1, 0.05], shuffle: false, persistent: true, trainSize: 400, testSize: null, seed: 7, dt: { dist: "gamma" } });
  });

  it.each([
    [{ batch: "abc" }, "batch", /^--batch: expected an integer >= 1, got "abc"$/],
    [{ beta: "0" }, "beta", /^--beta: expected a finite number > 0, got "0"$/],
    [{ lr: "0.1" }, "lr", /^--lr: expected 2 rate\(s\), one per weight layer of --arch 784,500,10, got 1 \(0\.1\)$/],
    [{ "dt-min": "0.5", "dt-max": "0.1" }, "dt-max", /^--dt-max: expected a number > --dt-min \(0\.5\), got 0\.1$/],
    [{ energy: "ising" }, "energy", /^--energy: expected one of hopfield, primitive, got "ising"$/],
    [{ seed: "1.5" }, "seed", /^--seed: expected an integer in \[0, 4294967295\], got "1\.5"$/],
    [{ out: "x" }, "out", /^--out: not a setting of a run/],
  ])("%j: the error names the flag", (flags, parameter, message) => {
    const e = caught(() => runSpecFromFlags(flags));
    expect(e.parameter).toBe(parameter);
    expect(e.message).toMatch(message);
  });
});

describe("run configuration files", () => {
  it("a RunSpec written as JSON reads back through checkRunConfig and its flags to the same RunSpec", () => {
    const spec = createRunSpec({ arch: [784, 64, 10], lr: [0.3, 0.1], persistent: true, shuffle: false, dt: { ...createRunSpec().dt, dist: "gamma", sd: 0.05 }, seed: 9 });
    const flags = flagsOfRunConfig(checkRunConfig(JSON.parse(JSON.stringify(spec)), "run.json"));
    expect(flags).toContain("--persistent");
    expect(flags).toContain("--no-shuffle");
    expect(flags).toContain("--arch=784,64,10");
    const parsed = Object.fromEntries(flags.map((f) => (f.includes("=") ? [f.slice(2, f.indexOf("=")), f.slice(f.indexOf("=") + 1)] : [f.slice(2), true])));
    expect(runSpecFromFlags(parsed)).toEqual(spec);
  });

  it("names the JSON path, the value and what is allowed", () => {
    expect(() => checkRunConfig({ dt: { min: 0.4, max: 0.2 } }, "r.json")).toThrow(/^r\.json: \$\.dt\.max is 0\.2: expected a number > dt\.min \(0\.4\)$/);
    expect(() => checkRunConfig({ epochz: 1 }, "r.json")).toThrow(StudyError);
  });
});
