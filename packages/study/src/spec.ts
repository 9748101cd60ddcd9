import { DYNAMICS, NUDGES, OPTIMIZERS, ORDERS } from "@hts/ep";
import { invalidField, refuse } from "./errors.js";
import { hasBackend, hasDistribution, hasEnergy, registeredNames } from "./registry.js";

/** How pixels reach the network (see `fitInputTransform` of `@hts/datasets`). */
export type RunInputMode = "raw" | "standardize" | "standardize-feature";

/** The dt settings of a run: the distribution by name and its parameters, and the clamp. */
export interface RunDtSpec {
  /** A name of `DISTRIBUTION_NAMES` or one given to {@link registerDistribution}. */
  dist: string;
  mean: number;
  sd: number;
  min: number;
  max: number;
  clamp: "clip" | "resample";
  /** Degrees of freedom of student-t. */
  nu: number;
  /** True when the network came from `init` (its dt is used, these settings are not). */
  fromInit: boolean;
}

/**
 * A run description: everything `hts train` can set, as a plain JSON-serialisable object.
 * Its fields and their order are those of a run folder's `config.json` (before the fields
 * the run adds: backend used, data source, input transform...). {@link RUN_DEFAULTS} holds
 * the defaults, {@link createRunSpec} fills them in and validates.
 */
export interface RunSpec {
  /** `embedded`, `mnist`, `idx:DIR`, or whatever the executor's data loader knows. */
  dataset: string;
  trainSize: number | null;
  testSize: number | null;
  /** Training examples held out (seeded) as a validation set; 0: none. */
  valSize: number;
  input: RunInputMode;
  inputSd: number;
  /** Layer sizes, input first (with cost ce the last entry is the read-out's classes). */
  arch: number[];
  epochs: number;
  batch: number;
  evalBatch: number;
  t1: number;
  t2: number;
  beta: number;
  nudge: (typeof NUDGES)[number];
  dynamics: (typeof DYNAMICS)[number];
  order: (typeof ORDERS)[number];
  persistent: boolean;
  /** `hopfield`, `primitive` or a name given to {@link registerEnergy}. */
  energy: string;
  activation: "hard-sigmoid" | "sigmoid" | "tanh";
  cost: string;
  tolerance: number;
  optimizer: (typeof OPTIMIZERS)[number];
  /** One rate per weight layer. */
  lr: number[];
  lrDecay: number;
  momentum: number;
  weightDecay: number;
  dt: RunDtSpec;
  seed: number;
  shuffle: boolean;
  /** A checkpoint to start from (its dt wins over `dt`), or null. */
  init: string | null;
  /** `auto`, `gpu`, `wasm`, `cpu`, `reference` or a name given to {@link registerBackend}. */
  backend: string;
  /**
   * Module specifiers an executor imports before the run (in its worker), so that their
   * `registerDistribution` / `registerEnergy` / `registerBackend` calls happen there. Absent
   * unless given.
   */
  imports?: string[];
}

/** The defaults of every field (those of `hts train`). */
export const RUN_DEFAULTS: Readonly<RunSpec> = Object.freeze({
  dataset: "embedded",
  trainSize: null,
  testSize: null,
  valSize: 0,
  input: "standardize",
  inputSd: 0.35,
  arch: [784, 500, 10],
  epochs: 5,
  batch: 20,
  evalBatch: 256,
  t1: 100,
  t2: 20,
  beta: 0.5,
  nudge: "symmetric",
  dynamics: "leaky",
  order: "sync",
  persistent: false,
  energy: "hopfield",
  activation: "hard-sigmoid",
  cost: "mse",
  tolerance: 0,
  optimizer: "sgd",
  lr: [0.2, 0.05],
  lrDecay: 0.8,
  momentum: 0.9,
  weightDecay: 0,
  dt: { dist: "lognormal", mean: 0.3, sd: 0.1, min: 1e-3, max: 0.5, clamp: "clip", nu: 3, fromInit: false },
  seed: 0,
  shuffle: true,
  init: null,
  backend: "auto",
}) as Readonly<RunSpec>;

/** A partial run description: any field may be left out (defaults), `dt` field by field. */
export type RunSpecInput = Partial<Omit<RunSpec, "dt">> & { dt?: Partial<RunDtSpec> };

const INPUTS = ["raw", "standardize", "standardize-feature"] as const;
const ACTIVATIONS = ["hard-sigmoid", "sigmoid", "tanh"] as const;
const COSTS = ["mse", "ce"] as const;
const KEYS = Object.keys(RUN_DEFAULTS).concat("imports");
const DT_KEYS = Object.keys(RUN_DEFAULTS.dt);

/** The defaults with `input` over them (a deep copy: nothing is shared with the input), validated. */
export function createRunSpec(input: RunSpecInput = {}): RunSpec {
  if (typeof input !== "object" || input === null || Array.isArray(input)) invalidField("spec", input, "an object of RunSpec fields");
  for (const k of Object.keys(input)) if (!KEYS.includes(k)) invalidField(k, (input as Record<string, unknown>)[k], `no such field (fields: ${KEYS.join(", ")})`);
  const base = structuredClone(RUN_DEFAULTS) as RunSpec;
  const copy = structuredClone(input) as RunSpecInput;
  const spec = { ...base, ...copy, dt: { ...base.dt, ...(copy.dt ?? {}) } } as RunSpec;
  if (spec.imports === undefined) delete spec.imports;
  validateRunSpec(spec);
  return spec;
}

function isInt(v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max;
}
function isNum(v: unknown, min: number, open: boolean, max = Number.POSITIVE_INFINITY): v is number {
  return typeof v === "number" && Number.isFinite(v) && (open ? v > min : v >= min) && v <= max;
}
function oneOf<T extends string>(field: string, v: unknown, allowed: readonly T[]): void {
  if (!(allowed as readonly unknown[]).includes(v)) invalidField(field, v, `one of ${allowed.join(", ")}`);
}

/**
 * Checks every field of a complete run description; the first problem throws a
 * `StudyError` (`HTS_INVALID_ARGUMENT`) whose `parameter` is the field (`lr`, `dt.max`...),
 * with the value and what is allowed. Names of distributions, energies and backends may be
 * built in or registered.
 */
export function validateRunSpec(spec: RunSpec): void {
  if (typeof spec !== "object" || spec === null) invalidField("spec", spec, "a RunSpec object");
  for (const k of Object.keys(spec)) if (!KEYS.includes(k)) invalidField(k, (spec as unknown as Record<string, unknown>)[k], `no such field (fields: ${KEYS.join(", ")})`);
  if (typeof spec.dataset !== "string" || spec.dataset === "") invalidField("dataset", spec.dataset, "a data set name: embedded, mnist or idx:DIR");
  for (const k of ["trainSize", "testSize"] as const) if (spec[k] !== null && !isInt(spec[k], 1)) invalidField(k, spec[k], "an integer >= 1 or null (all)");
  if (!isInt(spec.valSize, 0)) invalidField("valSize", spec.valSize, "an integer >= 0");
  oneOf("input", spec.input, INPUTS);
  if (!isNum(spec.inputSd, 0, true)) invalidField("inputSd", spec.inputSd, "a finite number > 0");
  if (!Array.isArray(spec.arch) || spec.arch.length < 2 || !spec.arch.every((n) => isInt(n, 1))) {
    invalidField("arch", spec.arch, "at least two positive integer layer sizes (input and output)");
  }
  if ((spec.arch[spec.arch.length - 1] as number) < 2) invalidField("arch", spec.arch, "an output layer of at least 2 neurons (one per class)");
  for (const k of ["epochs", "batch", "evalBatch", "t1", "t2"] as const) if (!isInt(spec[k], 1)) invalidField(k, spec[k], "an integer >= 1");
  if (!isNum(spec.beta, 0, true)) invalidField("beta", spec.beta, "a finite number > 0");
  oneOf("nudge", spec.nudge, NUDGES);
  oneOf("dynamics", spec.dynamics, DYNAMICS);
  oneOf("order", spec.order, ORDERS);
  if (typeof spec.persistent !== "boolean") invalidField("persistent", spec.persistent, "true or false");
  if (typeof spec.energy !== "string" || !hasEnergy(spec.energy)) invalidField("energy", spec.energy, `one of ${registeredNames("energy").join(", ")}`);
  oneOf("activation", spec.activation, ACTIVATIONS);
  oneOf("cost", spec.cost, COSTS);
  if (spec.cost === "ce" && spec.arch.length < 3) {
    refuse("arch", spec.arch, "at least three layer sizes with cost ce", `with cost ce the last entry is the read-out's classes, so at least one relaxed layer is needed (e.g. 784,500,10), got ${spec.arch.join(",")}`);
  }
  if (!isNum(spec.tolerance, 0, false)) invalidField("tolerance", spec.tolerance, "a finite number >= 0");
  oneOf("optimizer", spec.optimizer, OPTIMIZERS);
  if (!Array.isArray(spec.lr) || spec.lr.length === 0 || !spec.lr.every((n) => isNum(n, 0, false))) invalidField("lr", spec.lr, "a non-empty array of numbers >= 0");
  if (spec.init === null && spec.lr.length !== spec.arch.length - 1) {
    invalidField("lr", spec.lr, `${spec.arch.length - 1} rate(s), one per weight layer of arch ${spec.arch.join(",")}`);
  }
  if (!isNum(spec.lrDecay, 0, true, 1)) invalidField("lrDecay", spec.lrDecay, "a finite number > 0 and <= 1");
  if (!isNum(spec.momentum, 0, false, 0.999999)) invalidField("momentum", spec.momentum, "a finite number >= 0 and <= 0.999999");
  if (!isNum(spec.weightDecay, 0, false)) invalidField("weightDecay", spec.weightDecay, "a finite number >= 0");
  const dt = spec.dt;
  if (typeof dt !== "object" || dt === null) invalidField("dt", dt, "an object { dist, mean, sd, min, max, clamp, nu, fromInit }");
  for (const k of Object.keys(dt)) if (!DT_KEYS.includes(k)) invalidField(`dt.${k}`, (dt as unknown as Record<string, unknown>)[k], `no such field (fields: ${DT_KEYS.join(", ")})`);
  if (typeof dt.dist !== "string" || !hasDistribution(dt.dist)) invalidField("dt.dist", dt.dist, `one of ${registeredNames("distribution").join(", ")}`);
  if (!isNum(dt.mean, 0, true)) invalidField("dt.mean", dt.mean, "a finite number > 0");
  if (!isNum(dt.sd, 0, false)) invalidField("dt.sd", dt.sd, "a finite number >= 0");
  if (!isNum(dt.min, 0, true)) invalidField("dt.min", dt.min, "a finite number > 0");
  if (!isNum(dt.max, 0, true)) invalidField("dt.max", dt.max, "a finite number > 0");
  if (dt.max <= dt.min) invalidField("dt.max", dt.max, `a number > dt.min (${dt.min})`);
  oneOf("dt.clamp", dt.clamp, ["clip", "resample"]);
  if (!isNum(dt.nu, 0, true)) invalidField("dt.nu", dt.nu, "a finite number > 0");
  if (typeof dt.fromInit !== "boolean") invalidField("dt.fromInit", dt.fromInit, "true or false");
  if (!isInt(spec.seed, 0, 0xffffffff)) invalidField("seed", spec.seed, "an integer in [0, 4294967295]");
  if (typeof spec.shuffle !== "boolean") invalidField("shuffle", spec.shuffle, "true or false");
  if (spec.init !== null && (typeof spec.init !== "string" || spec.init === "")) invalidField("init", spec.init, "a checkpoint path or null");
  if (typeof spec.backend !== "string" || !hasBackend(spec.backend)) invalidField("backend", spec.backend, `one of ${registeredNames("backend").join(", ")}`);
  if (spec.imports !== undefined && (!Array.isArray(spec.imports) || !spec.imports.every((s) => typeof s === "string" && s !== ""))) {
    invalidField("imports", spec.imports, "an array of module specifiers");
  }
}
