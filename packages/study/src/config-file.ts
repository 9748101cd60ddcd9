import { DISTRIBUTION_NAMES } from "@hts/distributions";
import { z } from "zod";
import { StudyError } from "./errors.js";
import { RUN_FLAGS } from "./flags.js";

const positiveInt = z.number().int().min(1);
const finite = z.number().finite();

/**
 * The schema of a run configuration file (`hts train --config FILE`): the fields of a
 * RunSpec as the `config.json` of a run records them (and `--print-config` prints them),
 * every one optional; unknown fields are errors.
 */
export const runConfigSchema = z
  .object({
    dataset: z.string().regex(/^(embedded|mnist|idx:.+)$/, 'one of "embedded", "mnist", "idx:DIR"'),
    trainSize: positiveInt.nullable(),
    testSize: positiveInt.nullable(),
    valSize: z.number().int().min(0),
    input: z.enum(["raw", "standardize", "standardize-feature"]),
    inputSd: finite.gt(0),
    arch: z.array(positiveInt).min(2),
    epochs: positiveInt,
    batch: positiveInt,
    evalBatch: positiveInt,
    t1: positiveInt,
    t2: positiveInt,
    beta: finite.gt(0),
    nudge: z.enum(["one-sided", "random-sign", "symmetric"]),
    dynamics: z.enum(["leaky", "gradient"]),
    order: z.enum(["sync", "even-odd"]),
    persistent: z.boolean(),
    energy: z.enum(["hopfield", "primitive"]),
    activation: z.enum(["hard-sigmoid", "sigmoid", "tanh"]),
    cost: z.enum(["mse", "ce"]),
    tolerance: finite.min(0),
    optimizer: z.enum(["sgd", "momentum", "adam"]),
    lr: z.array(finite.min(0)).min(1),
    lrDecay: finite.gt(0).max(1),
    momentum: finite.min(0).max(0.999999),
    weightDecay: finite.min(0),
    dt: z
      .object({
        dist: z.enum(DISTRIBUTION_NAMES as unknown as [string, ...string[]]),
        mean: finite.gt(0),
        sd: finite.min(0),
        min: finite.gt(0),
        max: finite.gt(0),
        clamp: z.enum(["clip", "resample"]),
        nu: finite.gt(0),
        fromInit: z.boolean(),
      })
      .partial()
      .strict(),
    seed: z.number().int().min(0).max(0xffffffff),
    shuffle: z.boolean(),
    init: z.string().min(1).nullable(),
    backend: z.string().min(1),
  })
  .partial()
  .strict()
  .superRefine((c, ctx) => {
    if (c.arch && c.lr && c.lr.length !== c.arch.length - 1) {
      ctx.addIssue({ code: "custom", path: ["lr"], message: `${c.arch.length - 1} rate(s), one per weight layer of arch ${c.arch.join(",")}`, input: c.lr });
    }
    if (c.dt?.min !== undefined && c.dt.max !== undefined && c.dt.max <= c.dt.min) {
      ctx.addIssue({ code: "custom", path: ["dt", "max"], message: `a number > dt.min (${c.dt.min})`, input: c.dt.max });
    }
  });

/** A validated configuration file. */
export type RunConfigFile = z.infer<typeof runConfigSchema>;

function jsonPath(path: readonly PropertyKey[]): string {
  return `$${path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) v = v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

/**
 * Validates the parsed JSON of a run configuration file (`name` names it in errors); the
 * first problem throws a `StudyError` HTS_INVALID_ARGUMENT (parameter `config`) whose message
 * names the JSON path, the value and what is allowed: `run.json: $.epochs is 0: expected
 * number to be >=1`.
 */
export function checkRunConfig(json: unknown, name: string): RunConfigFile {
  const r = runConfigSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0] as z.core.$ZodIssue;
    let path = issue.path as PropertyKey[];
    let value = valueAt(json, path);
    let expected = issue.message.replace(/^(Invalid option|Invalid input|Too small|Too big): expected /, "");
    if (issue.code === "unrecognized_keys") {
      path = [...path, issue.keys[0] as string];
      value = valueAt(json, path);
      expected = "no such setting (see hts train --print-config for the names)";
    } else if (issue.code === "custom") {
      value = (issue as { input?: unknown }).input ?? value;
    }
    const shown = value === undefined ? "undefined" : JSON.stringify(value);
    throw new StudyError("HTS_INVALID_ARGUMENT", `${name}: ${jsonPath(path)} is ${shown}: expected ${expected}`, { parameter: "config", value, expected });
  }
  return r.data;
}

/**
 * The flag form (`--name=value`, as `hts train` takes it) of a checked configuration file:
 * flags given after them win.
 */
export function flagsOfRunConfig(c: RunConfigFile): string[] {
  const argv: string[] = [];
  for (const [flag, { kind, field }] of Object.entries(RUN_FLAGS)) {
    const v = field.split(".").reduce<unknown>((o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), c);
    if (v === undefined || v === null) continue;
    if (kind === "switch") {
      if (field === "shuffle" ? v === false : v === true) argv.push(`--${flag}`);
    } else argv.push(`--${flag}=${Array.isArray(v) ? v.join(",") : String(v)}`);
  }
  return argv;
}
