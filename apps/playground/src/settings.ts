/**
 * The page's settings: every field of a run description that the page offers (with its
 * control), plus the page's own (backend, threads, the scalar twin), and their round trip
 * through the URL hash. Validation is the library's: {@link specOf} calls `createRunSpec`
 * of `@hts/study`, whose errors name the field.
 */
import { DISTRIBUTION_NAMES } from "@hts/distributions";
import { createRunSpec, RUN_DEFAULTS, type RunSpec, type RunSpecInput } from "@hts/study";
import { PAGE_BACKENDS, type PageBackend } from "./protocol.js";

export type FieldKind = "int" | "num" | "list" | "enum" | "bool" | "size";

/** One control: `key` is the RunSpec field (`dt.mean` for dt's) or a page setting. */
export interface Field {
  readonly key: string;
  readonly label: string;
  readonly kind: FieldKind;
  readonly group: string;
  readonly options?: readonly string[];
  readonly help?: string;
  readonly step?: string;
}

export const GROUPS = ["Network", "Time steps dt", "Relaxation", "Learning", "Data", "Runtime"] as const;

export const FIELDS: readonly Field[] = [
  { key: "arch", label: "Layer sizes", kind: "list", group: "Network", help: "input first, e.g. 784,500,10" },
  { key: "activation", label: "Activation", kind: "enum", group: "Network", options: ["hard-sigmoid", "sigmoid", "tanh"] },
  { key: "energy", label: "Energy", kind: "enum", group: "Network", options: ["hopfield", "primitive"] },
  { key: "dynamics", label: "Update rule", kind: "enum", group: "Network", options: ["leaky", "gradient"] },
  { key: "dt.dist", label: "Distribution", kind: "enum", group: "Time steps dt", options: DISTRIBUTION_NAMES },
  { key: "dt.mean", label: "Mean", kind: "num", group: "Time steps dt", step: "0.01" },
  { key: "dt.sd", label: "SD", kind: "num", group: "Time steps dt", step: "0.01" },
  { key: "dt.min", label: "Clamp min", kind: "num", group: "Time steps dt", step: "0.001" },
  { key: "dt.max", label: "Clamp max", kind: "num", group: "Time steps dt", step: "0.01" },
  { key: "dt.clamp", label: "Clamp mode", kind: "enum", group: "Time steps dt", options: ["clip", "resample"] },
  { key: "dt.nu", label: "Student-t nu", kind: "num", group: "Time steps dt", step: "0.5" },
  { key: "t1", label: "T1 (free steps)", kind: "int", group: "Relaxation" },
  { key: "t2", label: "T2 (nudged steps)", kind: "int", group: "Relaxation" },
  { key: "beta", label: "Beta", kind: "num", group: "Relaxation", step: "0.05" },
  { key: "nudge", label: "Nudging", kind: "enum", group: "Relaxation", options: ["symmetric", "one-sided", "random-sign"] },
  { key: "cost", label: "Cost", kind: "enum", group: "Learning", options: ["mse", "ce"] },
  { key: "optimizer", label: "Optimizer", kind: "enum", group: "Learning", options: ["sgd", "momentum", "adam"] },
  { key: "lr", label: "Learning rates", kind: "list", group: "Learning", help: "one per weight layer" },
  { key: "lrDecay", label: "Rate decay per epoch", kind: "num", group: "Learning", step: "0.05" },
  { key: "momentum", label: "Momentum", kind: "num", group: "Learning", step: "0.05" },
  { key: "batch", label: "Batch", kind: "int", group: "Learning" },
  { key: "epochs", label: "Epochs", kind: "int", group: "Learning" },
  { key: "seed", label: "Seed", kind: "int", group: "Learning" },
  { key: "trainSize", label: "Training examples", kind: "size", group: "Data", help: "empty: all (8000 of the embedded digits)" },
  { key: "testSize", label: "Test examples", kind: "size", group: "Data", help: "empty: all (2000)" },
  { key: "valSize", label: "Validation hold-out", kind: "int", group: "Data" },
  { key: "backend", label: "Backend", kind: "enum", group: "Runtime", options: PAGE_BACKENDS },
  { key: "threads", label: "wasm threads", kind: "int", group: "Runtime", help: "more than 1 needs a cross-origin isolated page; default: the cores less one, at most 4" },
  { key: "twin", label: "Also train the scalar-dt twin", kind: "bool", group: "Runtime", help: "same seed, dt constant at the mean" },
];

/** Settings as the controls and the URL hold them: strings by key. */
export type Values = Record<string, string>;

/** The page's own settings. */
export interface PageSettings {
  readonly backend: PageBackend;
  readonly threads: number;
  readonly twin: boolean;
}

const PAGE_KEYS = ["backend", "threads", "twin"];

function specValue(spec: RunSpec, key: string): unknown {
  if (key.startsWith("dt.")) return (spec.dt as unknown as Record<string, unknown>)[key.slice(3)];
  return (spec as unknown as Record<string, unknown>)[key];
}

/** The default value of every control (the threads default depends on the machine). */
export function defaultValues(defaultThreads: number): Values {
  const v: Values = {};
  for (const f of FIELDS) {
    if (f.key === "backend") v[f.key] = "auto";
    else if (f.key === "threads") v[f.key] = String(defaultThreads);
    else if (f.key === "twin") v[f.key] = "0";
    else {
      const x = specValue(RUN_DEFAULTS as RunSpec, f.key);
      v[f.key] = x === null ? "" : Array.isArray(x) ? x.join(",") : String(x);
    }
  }
  return v;
}

/** A field's value as the RunSpec wants it (numbers stay strings when they do not parse, for the library to refuse). */
function parse(f: Field, s: string): unknown {
  const t = s.trim();
  if (f.kind === "list") return t === "" ? [] : t.split(",").map((p) => (p.trim() === "" || Number.isNaN(Number(p)) ? p.trim() : Number(p)));
  if (f.kind === "int" || f.kind === "num") return t === "" || Number.isNaN(Number(t)) ? t : Number(t);
  if (f.kind === "size") return t === "" ? null : Number.isNaN(Number(t)) ? t : Number(t);
  if (f.kind === "bool") return t === "1" || t === "true";
  return t;
}

/** The RunSpec input of the values (no validation). */
export function specInputOf(values: Values): RunSpecInput {
  const spec: Record<string, unknown> = {};
  const dt: Record<string, unknown> = {};
  for (const f of FIELDS) {
    if (PAGE_KEYS.includes(f.key)) continue;
    const v = parse(f, values[f.key] ?? "");
    if (f.key.startsWith("dt.")) dt[f.key.slice(3)] = v;
    else spec[f.key] = v;
  }
  return { ...spec, dt } as RunSpecInput;
}

/** The validated run description, or the library's error (a `StudyError` with `parameter`). */
export function specOf(values: Values): RunSpec {
  return createRunSpec(specInputOf(values));
}

/** The page's own settings of the values, or an error naming the field. */
export function pageOf(values: Values): PageSettings {
  const backend = values.backend as PageBackend;
  if (!(PAGE_BACKENDS as readonly string[]).includes(backend)) throw fieldError("backend", values.backend, `one of ${PAGE_BACKENDS.join(", ")}`);
  const threads = Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1 || threads > 16) throw fieldError("threads", values.threads, "an integer in [1, 16]");
  return { backend, threads, twin: values.twin === "1" || values.twin === "true" };
}

/** An error of a page setting, shaped like the library's (`parameter`, `value`, `expected`). */
export function fieldError(parameter: string, value: unknown, expected: string): Error & { parameter: string } {
  return Object.assign(new Error(`${parameter} must be ${expected}, got ${JSON.stringify(value)}`), { parameter });
}

/** The URL hash of the values: only those that differ from the defaults, in field order. */
export function hashOf(values: Values, defaults: Values, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams();
  for (const f of FIELDS) if (values[f.key] !== defaults[f.key]) p.set(f.key, values[f.key] ?? "");
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  const s = p.toString().replaceAll("%2C", ",");
  return s === "" ? "" : `#${s}`;
}

/** The values of a URL: the defaults, then the query's fields, then the hash's; and the flags (`autostart`). */
export function valuesOfUrl(url: URL, defaults: Values): { values: Values; autostart: boolean } {
  const values = { ...defaults };
  let autostart = false;
  for (const params of [url.searchParams, new URLSearchParams(url.hash.replace(/^#/, ""))]) {
    for (const [k, v] of params) {
      if (k === "autostart") autostart = v === "1" || v === "true";
      else if (FIELDS.some((f) => f.key === k)) values[k] = v;
    }
  }
  return { values, autostart };
}
