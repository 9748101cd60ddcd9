import { DISTRIBUTION_NAMES, type DistributionName, isDistributionName } from "@hts/distributions";
import { StudyError } from "./errors.js";
import { asFlagError, RUN_FLAGS, runSpecFromFlags } from "./flags.js";
import type { StudyRunResult } from "./metrics.js";
import { runDistribution } from "./registry.js";
import type { RunSpec } from "./spec.js";

/** A bad study setting: `parameter` names the flag or key (`seeds`, `set`, `vary`, `study`...). */
function usage(parameter: string, message: string, value?: unknown, expected = ""): StudyError {
  return new StudyError("HTS_INVALID_ARGUMENT", message, { parameter, value, expected });
}

/**
 * What a study runs: every distribution in `dists` (crossed with every combination of the
 * `vary` values) for every seed, each run an `hts train` with the flags in `set`.
 */
export interface StudyDefinition {
  /** The preset it started from, or null. */
  readonly preset: PresetName | null;
  readonly dists: readonly DistributionName[];
  readonly seeds: readonly number[];
  readonly epochs: number;
  readonly dataset: string;
  readonly trainSize: number | null;
  readonly testSize: number | null;
  /** `hts train` flags by name without dashes: a value, or true for a switch. */
  readonly set: Readonly<Record<string, string | true>>;
  /** `hts train` flags to sweep: each combination of values is its own configuration. */
  readonly vary: Readonly<Record<string, readonly string[]>>;
}

/** The named settings of `hts study --preset`. */
export const PRESET_NAMES = ["paper", "stress", "quick"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

const PAPER_DT = { "dt-mean": "0.3", "dt-sd": "0.1", "dt-min": "1e-3", "dt-max": "0.5" } as const;

const PAPER: StudyDefinition = {
  preset: "paper",
  dists: [...DISTRIBUTION_NAMES],
  seeds: [0, 1, 2, 3, 4],
  epochs: 5,
  dataset: "embedded",
  trainSize: null,
  testSize: null,
  set: { ...PAPER_DT },
  vary: {},
};

/**
 * The presets. `paper`: the paper's dt parameters and otherwise the defaults of `hts train`
 * (784-500-10, 5 epochs, 8,000/2,000 embedded digits). `stress`: the same with three times
 * the learning rates (0.6, 0.15), where the scalar baseline is near its stability edge (see
 * docs/study.md for the runs that placed it). `quick`: a tiny grid for CI.
 */
export const PRESETS: Readonly<Record<PresetName, StudyDefinition>> = {
  paper: PAPER,
  // Three times the default learning rates: where the scalar baseline still learns but
  // loses about 4 points on average, with one seed dipping by 9 points; at four times it
  // falls apart (docs/study.md has the runs).
  stress: { ...PAPER, preset: "stress", dists: [...PAPER.dists], seeds: [...PAPER.seeds], set: { ...PAPER_DT, lr: "0.6,0.15" } },
  quick: {
    preset: "quick",
    dists: ["constant", "lognormal", "cauchy"],
    seeds: [0, 1],
    epochs: 2,
    dataset: "embedded",
    trainSize: 400,
    testSize: 200,
    set: { ...PAPER_DT, arch: "784,32,10", t1: "30", t2: "8" },
    vary: {},
  },
};

/**
 * `hts train` options a study sets itself, or through its own flags: they cannot be given
 * with `--set` or `--vary`. The value says what to use instead.
 */
export const RESERVED_TRAIN_OPTIONS: Readonly<Record<string, string>> = {
  out: "the study writes each run to <study>/runs/<config>/seed-<s>",
  overwrite: "the study manages its run folders",
  json: "the study reads each run's JSON summary itself",
  help: "see hts train --help",
  "print-config": "the study reads each run's JSON summary itself",
  resume: "a rerun of the study continues it; unfinished runs start again",
  seed: "use --seeds",
  "dt-dist": "use --dists",
  epochs: "use --epochs",
  dataset: "use --dataset",
  "train-size": "use --train-size",
  "test-size": "use --test-size",
  config: "put the settings in the study's set",
};

/** The options `hts train` accepts: name (without dashes) to whether it is a switch. */
export type TrainOptionKinds = ReadonlyMap<string, "value" | "switch">;

/** The run settings a study may set or vary (the flag form of a RunSpec, {@link RUN_FLAGS}). */
export const TRAIN_OPTION_KINDS: TrainOptionKinds = new Map(Object.entries(RUN_FLAGS).map(([k, v]) => [k, v.kind]));

/** Where a value came from, for error messages: a flag or a JSON path in a study file. */
export interface Source {
  /** e.g. `--seeds` or `study.json: $.seeds[2]`. */
  readonly where: string;
  /** The parameter the error names. */
  readonly option: string;
}

function fail(src: Source, expected: string, value: unknown): never {
  throw usage(src.option, `${src.where}: expected ${expected}, got ${show(value)}`, value, expected);
}

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** A distribution list: names from DISTRIBUTION_NAMES, or `all`. */
export function parseDists(value: unknown, src: Source): DistributionName[] {
  const list = typeof value === "string" ? (value.trim() === "all" ? [...DISTRIBUTION_NAMES] : value.split(",").map((s) => s.trim())) : value;
  if (!Array.isArray(list) || list.length === 0) fail(src, `a non-empty list of distributions (${DISTRIBUTION_NAMES.join(", ")}) or "all"`, value);
  const out: DistributionName[] = [];
  list.forEach((name, i) => {
    if (!isDistributionName(name)) {
      const where = typeof value === "string" ? src : { ...src, where: `${src.where}[${i}]` };
      fail(where, `one of ${DISTRIBUTION_NAMES.join(", ")}`, name);
    }
    if (out.includes(name)) fail(src, "each distribution once", value);
    out.push(name);
  });
  return out;
}

const MAX_SEED = 0xffffffff;

/**
 * Seeds: a count N (seeds 0..N-1), a list `0,4,9` or a range `10..14` on the command line;
 * in a study file a count or an array of integers.
 */
export function parseSeeds(value: unknown, src: Source): number[] {
  const what = "a number of seeds N >= 1 (seeds 0..N-1), a list of seeds such as 0,4,9, or a range such as 10..14, each seed an integer in [0, 4294967295]";
  const isSeed = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0 && n <= MAX_SEED;
  let seeds: number[];
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 1 || value > 10_000) fail(src, "a number of seeds in [1, 10000] or an array of seeds", value);
    seeds = Array.from({ length: value }, (_, i) => i);
  } else if (Array.isArray(value)) {
    if (value.length === 0) fail(src, "a non-empty array of seeds", value);
    value.forEach((n, i) => {
      if (!isSeed(n)) fail({ ...src, where: `${src.where}[${i}]` }, "an integer seed in [0, 4294967295]", n);
    });
    seeds = value as number[];
  } else if (typeof value === "string") {
    const t = value.trim();
    const range = /^(\d+)\.\.(\d+)$/.exec(t);
    if (/^\d+$/.test(t)) {
      const n = Number(t);
      if (n < 1 || n > 10_000) fail(src, what, value);
      seeds = Array.from({ length: n }, (_, i) => i);
    } else if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (!isSeed(a) || !isSeed(b) || b < a || b - a >= 10_000) fail(src, what, value);
      seeds = Array.from({ length: b - a + 1 }, (_, i) => a + i);
    } else if (/^\d+(\s*,\s*\d+)+$/.test(t)) {
      seeds = t.split(",").map(Number);
      if (!seeds.every(isSeed)) fail(src, what, value);
    } else fail(src, what, value);
  } else fail(src, "a number of seeds or an array of seeds", value);
  if (new Set(seeds).size !== seeds.length) fail(src, "each seed once", value);
  return seeds;
}

/** A positive integer from a flag (string) or a study file (number). */
export function parsePositiveInt(value: unknown, src: Source, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1 || n > max) {
    fail(src, max === Number.MAX_SAFE_INTEGER ? "an integer >= 1" : `an integer in [1, ${max}]`, value);
  }
  return n;
}

/** A train option name as used by `--set`/`--vary`: known to `hts train` and not reserved. */
function checkTrainOption(name: string, src: Source, kinds: TrainOptionKinds): "value" | "switch" {
  const reserved = RESERVED_TRAIN_OPTIONS[name];
  if (reserved !== undefined) fail(src, `an hts train option the study does not set itself (for ${name}: ${reserved})`, name);
  const kind = kinds.get(name);
  if (kind === undefined) fail(src, "the name of an hts train option without the dashes, e.g. lr or t1 (see hts train --help)", name);
  return kind;
}

/** One `--set` flag: `KEY=VALUE`, or `KEY` alone for a switch. */
export function parseSetFlag(text: string, kinds: TrainOptionKinds = TRAIN_OPTION_KINDS): [string, string | true] {
  const src = { where: "--set", option: "set" };
  const eq = text.indexOf("=");
  const name = (eq < 0 ? text : text.slice(0, eq)).trim().replace(/^--/, "");
  const kind = checkTrainOption(name, { ...src, where: `--set ${text}` }, kinds);
  if (kind === "switch") {
    if (eq >= 0) fail({ ...src, where: `--set ${text}` }, `${name} alone (it is a switch and takes no value)`, text);
    return [name, true];
  }
  const value = eq < 0 ? "" : text.slice(eq + 1).trim();
  if (value === "") fail({ ...src, where: `--set ${text}` }, `KEY=VALUE with a value for ${name}`, text);
  return [name, value];
}

/** One `--vary` flag: `KEY=V1|V2|...`. */
export function parseVaryFlag(text: string, kinds: TrainOptionKinds = TRAIN_OPTION_KINDS): [string, string[]] {
  const where = `--vary ${text}`;
  const eq = text.indexOf("=");
  const name = (eq < 0 ? text : text.slice(0, eq)).trim().replace(/^--/, "");
  const kind = checkTrainOption(name, { where, option: "vary" }, kinds);
  if (kind === "switch") fail({ where, option: "vary" }, "an option that takes a value (switches cannot be varied; use --set)", name);
  const values = eq < 0 ? [] : text.slice(eq + 1).split("|").map((v) => v.trim());
  if (values.length === 0 || values.some((v) => v === "")) fail({ where, option: "vary" }, `KEY=V1|V2|... with non-empty values for ${name}`, text);
  if (new Set(values).size !== values.length) fail({ where, option: "vary" }, "each value once", text);
  return [name, values];
}

const FILE_KEYS = ["preset", "dists", "seeds", "epochs", "dataset", "trainSize", "testSize", "set", "vary", "jobs"] as const;

/** What a study file may hold: a partial definition over a preset, and `jobs`. */
export interface StudyFile {
  readonly definition: Partial<Omit<StudyDefinition, "preset">> & { readonly preset?: PresetName };
  readonly jobs?: number;
}

/**
 * Validates the parsed JSON of a study file. Every error names the file, the JSON path,
 * the value and what is allowed, e.g. `study.json: $.seeds[1]: expected an integer seed in
 * [0, 4294967295], got -1`.
 */
export function parseStudyFile(json: unknown, file: string, kinds: TrainOptionKinds = TRAIN_OPTION_KINDS): StudyFile {
  const at = (path: string): Source => ({ where: `${file}: $${path}`, option: "study" });
  if (typeof json !== "object" || json === null || Array.isArray(json)) fail(at(""), "a JSON object", json);
  const o = json as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(FILE_KEYS as readonly string[]).includes(key)) fail(at(`.${key}`), `no such key (allowed: ${FILE_KEYS.join(", ")})`, key);
  }
  const d: Record<string, unknown> = {};
  if (o.preset !== undefined) {
    if (!(PRESET_NAMES as readonly unknown[]).includes(o.preset)) fail(at(".preset"), `one of ${PRESET_NAMES.join(", ")}`, o.preset);
    d.preset = o.preset;
  }
  if (o.dists !== undefined) d.dists = parseDists(o.dists, at(".dists"));
  if (o.seeds !== undefined) d.seeds = parseSeeds(o.seeds, at(".seeds"));
  if (o.epochs !== undefined) d.epochs = parsePositiveInt(o.epochs, at(".epochs"));
  if (o.dataset !== undefined) {
    if (typeof o.dataset !== "string" || o.dataset === "") fail(at(".dataset"), "a string: embedded, mnist or idx:DIR", o.dataset);
    d.dataset = o.dataset;
  }
  for (const k of ["trainSize", "testSize"] as const) {
    if (o[k] === null) d[k] = null;
    else if (o[k] !== undefined) d[k] = parsePositiveInt(o[k], at(`.${k}`));
  }
  if (o.set !== undefined) {
    if (typeof o.set !== "object" || o.set === null || Array.isArray(o.set)) fail(at(".set"), 'an object of hts train options, e.g. { "lr": "0.2,0.1", "no-shuffle": true }', o.set);
    const set: Record<string, string | true> = {};
    for (const [name, v] of Object.entries(o.set as Record<string, unknown>)) {
      const kind = checkTrainOption(name, at(`.set.${name}`), kinds);
      set[name] = fileValue(v, kind, at(`.set[${JSON.stringify(name)}]`));
    }
    d.set = set;
  }
  if (o.vary !== undefined) {
    if (typeof o.vary !== "object" || o.vary === null || Array.isArray(o.vary)) fail(at(".vary"), 'an object of hts train options to lists of values, e.g. { "lr": ["0.1,0.05", "0.2,0.1"] }', o.vary);
    const vary: Record<string, string[]> = {};
    for (const [name, v] of Object.entries(o.vary as Record<string, unknown>)) {
      const src = at(`.vary[${JSON.stringify(name)}]`);
      const kind = checkTrainOption(name, src, kinds);
      if (kind === "switch") fail(src, "an option that takes a value (switches cannot be varied)", name);
      if (!Array.isArray(v) || v.length === 0) fail(src, "a non-empty array of values", v);
      const values = v.map((x, i) => fileValue(x, "value", at(`.vary[${JSON.stringify(name)}][${i}]`)) as string);
      if (new Set(values).size !== values.length) fail(src, "each value once", v);
      vary[name] = values;
    }
    d.vary = vary;
  }
  const jobs = o.jobs === undefined ? undefined : parsePositiveInt(o.jobs, at(".jobs"), 1024);
  return jobs === undefined ? { definition: d } : { definition: d, jobs };
}

/** A train option's value in a study file: a string, a number, an array of numbers (joined by commas), or true for a switch. */
function fileValue(v: unknown, kind: "value" | "switch", src: Source): string | true {
  if (kind === "switch") {
    if (v !== true) fail(src, "true (the option is a switch)", v);
    return true;
  }
  if (typeof v === "string" && v.trim() !== "") return v.trim();
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number" && Number.isFinite(x))) return v.join(",");
  return fail(src, "a string, a finite number or an array of numbers", v);
}

/** One configuration of a study: a distribution and one combination of the varied options. */
export interface StudyConfig {
  /** Display name, e.g. `lognormal` or `lognormal lr=0.4,0.2`. */
  readonly name: string;
  /** Folder under runs/. */
  readonly folder: string;
  readonly dist: DistributionName;
  readonly variant: Readonly<Record<string, string>>;
}

/** The configurations of a definition, distributions outermost, in the order given. */
export function studyConfigs(def: StudyDefinition): StudyConfig[] {
  let variants: Record<string, string>[] = [{}];
  for (const [name, values] of Object.entries(def.vary)) {
    variants = variants.flatMap((v) => values.map((x) => ({ ...v, [name]: x })));
  }
  const configs = def.dists.flatMap((dist) =>
    variants.map((variant) => {
      const suffix = Object.entries(variant).map(([k, v]) => `${k}=${v}`);
      return {
        name: [dist, ...suffix].join(" "),
        folder: [dist, ...suffix].join("_").replace(/[^A-Za-z0-9.=-]+/g, "_").replace(/=/g, "-"),
        dist,
        variant,
      };
    }),
  );
  const seen = new Map<string, string>();
  for (const c of configs) {
    const other = seen.get(c.folder);
    if (other !== undefined) throw usage("vary", `--vary: configurations ${JSON.stringify(other)} and ${JSON.stringify(c.name)} would share the folder runs/${c.folder}; use values that differ in letters or digits`);
    seen.set(c.folder, c.name);
  }
  return configs;
}

/** The `hts train` arguments of one run (without --out and --json). */
export function trainArgs(def: StudyDefinition, config: StudyConfig, seed: number): string[] {
  const args = ["train", "--dt-dist", config.dist, "--seed", String(seed), "--epochs", String(def.epochs), "--dataset", def.dataset];
  if (def.trainSize !== null) args.push("--train-size", String(def.trainSize));
  if (def.testSize !== null) args.push("--test-size", String(def.testSize));
  const flags = { ...def.set, ...config.variant };
  for (const name of Object.keys(flags).sort()) {
    const v = flags[name] as string | true;
    if (v === true) args.push(`--${name}`);
    else args.push(`--${name}=${v}`);
  }
  return args;
}

/** The definition with its maps in a canonical order, for comparison and for study.json. */
export function canonicalDefinition(def: StudyDefinition): StudyDefinition {
  const sortKeys = <T>(o: Readonly<Record<string, T>>): Record<string, T> => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k] as T]));
  return { ...def, set: sortKeys(def.set), vary: sortKeys(def.vary) };
}

/** One planned run of a study: its RunSpec, an id, the run folder and the `hts train` arguments it stands for. */
export interface PlannedRun {
  /** `<config folder>/seed-<s>`: unique within the study. */
  readonly id: string;
  readonly config: StudyConfig;
  readonly seed: number;
  /** The run folder, relative to the study folder: runs/<config>/seed-<s>. */
  readonly folder: string;
  /** The `hts train` arguments of the run (without --out and --json): recorded in run.json, compared on a rerun. */
  readonly args: readonly string[];
  readonly spec: RunSpec;
}

/** The flag form of one run of a configuration (see {@link runSpecFromFlags}). */
export function runFlags(def: StudyDefinition, config: StudyConfig, seed: number): Record<string, string | true> {
  const flags: Record<string, string | true> = { "dt-dist": config.dist, seed: String(seed), epochs: String(def.epochs), dataset: def.dataset };
  if (def.trainSize !== null) flags["train-size"] = String(def.trainSize);
  if (def.testSize !== null) flags["test-size"] = String(def.testSize);
  return { ...flags, ...def.set, ...config.variant };
}

/**
 * Every run of a study, seeds outermost, configurations in order: its RunSpec, id, folder
 * and arguments. Each configuration's settings are checked first (flags, then the dt
 * distribution with its factory), so a bad `set` or `vary` value is one `StudyError`
 * before any run starts: `configuration "<name>": <flagPrefix>--<flag>: ...`.
 */
export function planStudy(def: StudyDefinition, options: { readonly flagPrefix?: string } = {}): PlannedRun[] {
  const configs = studyConfigs(def);
  const specs = new Map<string, RunSpec>();
  for (const c of configs) {
    const where = `configuration ${JSON.stringify(c.name)}: `;
    let spec: RunSpec;
    try {
      spec = runSpecFromFlags(runFlags(def, c, def.seeds[0] ?? 0));
    } catch (e) {
      if (e instanceof StudyError) throw usage(e.parameter, `${where}${options.flagPrefix ?? ""}${e.message}`, e.value, e.expected);
      throw e;
    }
    if (spec.init === null) {
      try {
        runDistribution(spec.dt);
      } catch (e) {
        const f = asFlagError(e);
        if (f instanceof StudyError) throw usage(f.parameter, `${where}${f.message}`, f.value, f.expected);
        throw e;
      }
    }
    specs.set(c.name, spec);
  }
  return def.seeds.flatMap((seed) =>
    configs.map((config) => {
      const spec = { ...(specs.get(config.name) as RunSpec), seed };
      const folder = `runs/${config.folder}/seed-${seed}`;
      return { id: `${config.folder}/seed-${seed}`, config, seed, folder, args: trainArgs(def, config, seed), spec };
    }),
  );
}

/** A planned run's outcome as the summary takes it (see {@link summaryRows}): the completed epochs of its result. */
export function studyRunResult(run: PlannedRun, outcome: { readonly status: string; readonly message: string | null; readonly seconds: number; readonly result: { readonly metrics: readonly unknown[] } | null }): StudyRunResult {
  const status: StudyRunResult["status"] = outcome.status === "ok" || outcome.status === "diverged" ? outcome.status : "crashed";
  const epochs = (outcome.result?.metrics ?? [])
    .map((m) => m as Record<string, unknown>)
    .filter((m) => m.nonFinite === false && typeof m.testAccuracy === "number")
    .map((m) => ({ epoch: m.epoch as number, testAccuracy: m.testAccuracy as number, freeResidual: m.freeResidual as number }));
  return { config: run.config.name, seed: run.seed, status, message: outcome.message, seconds: outcome.seconds, epochs };
}
