import { DYNAMICS, NUDGES, OPTIMIZERS, ORDERS } from "@hts/ep";
import { StudyError } from "./errors.js";
import { type RunSpec, validateRunSpec } from "./spec.js";

/**
 * The flag form of a run description: the options of `hts train` that set a RunSpec field,
 * by name without dashes, with their kind (a value, or a switch) and default as the command
 * line shows it. Study definitions use this form in `set` and `vary`.
 */
export const RUN_FLAGS: Readonly<Record<string, { readonly kind: "value" | "switch"; readonly field: string; readonly default?: string }>> = Object.freeze({
  dataset: { kind: "value", field: "dataset", default: "embedded" },
  "train-size": { kind: "value", field: "trainSize" },
  "test-size": { kind: "value", field: "testSize" },
  "val-size": { kind: "value", field: "valSize", default: "0" },
  input: { kind: "value", field: "input", default: "standardize" },
  "input-sd": { kind: "value", field: "inputSd", default: "0.35" },
  arch: { kind: "value", field: "arch", default: "784,500,10" },
  epochs: { kind: "value", field: "epochs", default: "5" },
  batch: { kind: "value", field: "batch", default: "20" },
  "eval-batch": { kind: "value", field: "evalBatch", default: "256" },
  t1: { kind: "value", field: "t1", default: "100" },
  t2: { kind: "value", field: "t2", default: "20" },
  beta: { kind: "value", field: "beta", default: "0.5" },
  nudge: { kind: "value", field: "nudge", default: "symmetric" },
  dynamics: { kind: "value", field: "dynamics", default: "leaky" },
  order: { kind: "value", field: "order", default: "sync" },
  persistent: { kind: "switch", field: "persistent" },
  energy: { kind: "value", field: "energy", default: "hopfield" },
  activation: { kind: "value", field: "activation", default: "hard-sigmoid" },
  cost: { kind: "value", field: "cost", default: "mse" },
  tolerance: { kind: "value", field: "tolerance", default: "0" },
  optimizer: { kind: "value", field: "optimizer", default: "sgd" },
  lr: { kind: "value", field: "lr", default: "0.2,0.05" },
  "lr-decay": { kind: "value", field: "lrDecay", default: "0.8" },
  momentum: { kind: "value", field: "momentum", default: "0.9" },
  "weight-decay": { kind: "value", field: "weightDecay", default: "0" },
  "dt-dist": { kind: "value", field: "dt.dist", default: "lognormal" },
  "dt-mean": { kind: "value", field: "dt.mean", default: "0.3" },
  "dt-sd": { kind: "value", field: "dt.sd", default: "0.1" },
  "dt-min": { kind: "value", field: "dt.min", default: "1e-3" },
  "dt-max": { kind: "value", field: "dt.max", default: "0.5" },
  "dt-clamp": { kind: "value", field: "dt.clamp", default: "clip" },
  "dt-nu": { kind: "value", field: "dt.nu", default: "3" },
  seed: { kind: "value", field: "seed", default: "0" },
  "no-shuffle": { kind: "switch", field: "shuffle" },
  init: { kind: "value", field: "init" },
  backend: { kind: "value", field: "backend", default: "auto" },
});

/** The flag of a RunSpec field (`lrDecay` to `lr-decay`, `dt.max` to `dt-max`), or undefined. */
export function flagOfField(field: string): string | undefined {
  for (const [flag, f] of Object.entries(RUN_FLAGS)) if (f.field === field) return flag;
  return undefined;
}

/** Flag values: a string for a value, true (or false) for a switch; absent: the default. */
export type RunFlags = Readonly<Record<string, string | boolean | undefined>>;

function fail(flag: string, message: string, value: unknown, expected: string): never {
  throw new StudyError("HTS_INVALID_ARGUMENT", `--${flag}: ${message}`, { parameter: flag, value, expected });
}

/**
 * A run description from its flag form (as `hts train` takes it): every flag is parsed and
 * checked as the command line does, and the first problem throws a `StudyError` whose
 * `parameter` is the flag and whose message starts with `--<flag>: `. Unknown flags are
 * refused. The result is validated with {@link validateRunSpec}.
 */
export function runSpecFromFlags(flags: RunFlags): RunSpec {
  for (const k of Object.keys(flags)) {
    if (!(k in RUN_FLAGS)) fail(k, "not a setting of a run (see hts train --help)", k, `one of ${Object.keys(RUN_FLAGS).join(", ")}`);
  }
  const str = (name: string): string | undefined => {
    const v = flags[name];
    return typeof v === "string" ? v : v === undefined ? RUN_FLAGS[name]?.default : undefined;
  };
  const sw = (name: string): boolean => flags[name] === true;
  const choice = <T extends string>(name: string, allowed: readonly T[]): T => {
    const v = str(name);
    if (v === undefined || !allowed.includes(v as T)) fail(name, `expected one of ${allowed.join(", ")}, got ${JSON.stringify(v ?? "")}`, v, allowed.join(", "));
    return v as T;
  };
  const int = (name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    const n = /^[+]?\d+$/.test(v.trim()) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
      fail(name, `expected ${range}, got ${JSON.stringify(v)}`, v, range);
    }
    return n;
  };
  const num = (name: string, min: number, open = false, max = Number.POSITIVE_INFINITY): number => {
    const v = str(name) as string;
    const n = v.trim() === "" ? Number.NaN : Number(v);
    if (!Number.isFinite(n) || (open ? n <= min : n < min) || n > max) {
      const what = `a finite number ${open ? `> ${min}` : `>= ${min}`}${max === Number.POSITIVE_INFINITY ? "" : ` and <= ${max}`}`;
      fail(name, `expected ${what}, got ${JSON.stringify(v)}`, v, what);
    }
    return n;
  };
  const numList = (name: string, check: (n: number) => boolean, what: string): number[] => {
    const v = str(name) as string;
    const nums = v.split(",").map((p) => (p.trim() === "" ? Number.NaN : Number(p.trim())));
    if (nums.some((n) => !Number.isFinite(n) || !check(n))) fail(name, `expected a comma-separated list of ${what}, got ${JSON.stringify(v)}`, v, `a comma-separated list of ${what}`);
    return nums;
  };
  const arch = numList("arch", (n) => Number.isInteger(n) && n >= 1, "positive integers (layer sizes)");
  if (arch.length < 2) fail("arch", `expected at least two layer sizes (input and output), got ${JSON.stringify(str("arch"))}`, str("arch"), "at least two layer sizes");
  if ((arch[arch.length - 1] as number) < 2) fail("arch", `the output layer needs at least 2 neurons (one per class), got ${arch[arch.length - 1]}`, arch, "an output layer of at least 2");
  if (str("cost") === "ce" && arch.length < 3) {
    fail("arch", `with --cost ce the last entry is the read-out's classes, so at least one relaxed layer is needed (e.g. 784,500,10), got ${str("arch")}`, arch, "at least three layer sizes");
  }
  const lr = numList("lr", (n) => n >= 0, "numbers >= 0");
  if (str("init") === undefined && lr.length !== arch.length - 1) {
    fail("lr", `expected ${arch.length - 1} rate(s), one per weight layer of --arch ${arch.join(",")}, got ${lr.length} (${str("lr")})`, lr, `${arch.length - 1} rate(s)`);
  }
  const dtMin = num("dt-min", 0, true);
  const dtMax = num("dt-max", 0, true);
  if (dtMax <= dtMin) fail("dt-max", `expected a number > --dt-min (${dtMin}), got ${dtMax}`, dtMax, `a number > ${dtMin}`);
  const spec: RunSpec = {
    dataset: str("dataset") as string,
    trainSize: int("train-size", 1) ?? null,
    testSize: int("test-size", 1) ?? null,
    valSize: int("val-size", 0) as number,
    input: choice("input", ["raw", "standardize", "standardize-feature"]),
    inputSd: num("input-sd", 0, true),
    arch,
    epochs: int("epochs", 1) as number,
    batch: int("batch", 1) as number,
    evalBatch: int("eval-batch", 1) as number,
    t1: int("t1", 1) as number,
    t2: int("t2", 1) as number,
    beta: num("beta", 0, true),
    nudge: choice("nudge", NUDGES),
    dynamics: choice("dynamics", DYNAMICS),
    order: choice("order", ORDERS),
    persistent: sw("persistent"),
    energy: str("energy") as string,
    activation: choice("activation", ["hard-sigmoid", "sigmoid", "tanh"]),
    cost: choice("cost", ["mse", "ce"]),
    tolerance: num("tolerance", 0),
    optimizer: choice("optimizer", OPTIMIZERS),
    lr,
    lrDecay: num("lr-decay", 0, true, 1),
    momentum: num("momentum", 0, false, 0.999999),
    weightDecay: num("weight-decay", 0),
    dt: {
      dist: str("dt-dist") as string,
      mean: num("dt-mean", 0, true),
      sd: num("dt-sd", 0),
      min: dtMin,
      max: dtMax,
      clamp: choice("dt-clamp", ["clip", "resample"]),
      nu: num("dt-nu", 0, true),
      fromInit: false,
    },
    seed: int("seed", 0, 0xffffffff) as number,
    shuffle: !sw("no-shuffle"),
    init: str("init") ?? null,
    backend: str("backend") as string,
  };
  try {
    validateRunSpec(spec);
  } catch (e) {
    // Names (energy, backend, dt.dist) are the checks left to the validator: say them as flags.
    throw asFlagError(e);
  }
  return spec;
}

/**
 * A `StudyError` about a RunSpec field (`dt.sd: ...`) said as its flag (`--dt-sd: ...`,
 * `parameter` the flag); other errors are returned as they are.
 */
export function asFlagError(e: unknown): unknown {
  if (!(e instanceof StudyError)) return e;
  const flag = flagOfField(e.parameter);
  if (flag === undefined || !e.message.startsWith(`${e.parameter}: `)) return e;
  return new StudyError(e.code, `--${flag}: ${e.message.slice(e.parameter.length + 2)}`, { parameter: flag, value: e.value, expected: e.expected });
}
