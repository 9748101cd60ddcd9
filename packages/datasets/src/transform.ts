import { DatasetError } from "./errors.js";
import { seededPermutation } from "./shuffle.js";
import type { Dataset } from "./types.js";

/**
 * How the pixels are presented to the network:
 * - `raw`: as loaded, in [0, 1];
 * - `standardize`: sd' (x - m) / s with one mean m and one standard deviation s over all
 *   pixels of the training split (for raw MNIST m = 0.13, s = 0.31): mean 0 and standard
 *   deviation sd' (the `sd` option, default 1);
 * - `standardize-feature`: the same per pixel, with s floored at 0.1 of the global s so
 *   that pixels nearly constant in training do not blow up (pixels constant in training
 *   map to 0).
 */
export const INPUT_MODES = ["raw", "standardize", "standardize-feature"] as const;
/** An input mode's name. */
export type InputMode = (typeof INPUT_MODES)[number];

/** A fitted input transform, JSON-safe: one mean and sd (global) or one per pixel, and the target sd: x' = scale (x - mean) / sd. */
export interface InputTransform {
  readonly mode: InputMode;
  readonly mean: readonly number[];
  readonly sd: readonly number[];
  /** The standard deviation the transformed pixels get (1: unit variance). */
  readonly scale: number;
}

function bad(where: string, parameter: string, value: unknown, expected: string): never {
  throw new DatasetError("HTS_INVALID_ARGUMENT", `${where}: ${parameter} must be ${expected}, got ${JSON.stringify(value)}`, { parameter, value, expected });
}

/** Fits the transform `mode` on a training split (float64 sums); `sd` is the standard deviation the pixels get (default 1). */
export function fitInputTransform(train: Dataset, mode: InputMode, options: { sd?: number } = {}): InputTransform {
  if (!INPUT_MODES.includes(mode)) bad("fitInputTransform", "mode", mode, INPUT_MODES.join(" | "));
  const scale = options.sd ?? 1;
  if (!(Number.isFinite(scale) && scale > 0)) bad("fitInputTransform", "sd", scale, "a finite number > 0");
  if (mode === "raw") return { mode, mean: [], sd: [], scale: 1 };
  if (train.count < 2) bad("fitInputTransform", "train.count", train.count, "at least 2 examples to fit a mean and a standard deviation");
  const { images, dim, count } = train;
  const sum = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < dim; j++) {
      const v = images[i * dim + j] as number;
      sum[j] = (sum[j] as number) + v;
      sq[j] = (sq[j] as number) + v * v;
    }
  }
  let total = 0;
  let totalSq = 0;
  for (let j = 0; j < dim; j++) {
    total += sum[j] as number;
    totalSq += sq[j] as number;
  }
  const n = count * dim;
  const gMean = total / n;
  const gSd = Math.sqrt(Math.max(totalSq / n - gMean * gMean, 0));
  if (!(gSd > 0)) bad("fitInputTransform", "train.images", "every pixel equal", "training images that vary");
  if (mode === "standardize") return { mode, mean: [gMean], sd: [gSd], scale };
  const mean: number[] = [];
  const sd: number[] = [];
  for (let j = 0; j < dim; j++) {
    const m = (sum[j] as number) / count;
    mean.push(m);
    sd.push(Math.max(Math.sqrt(Math.max((sq[j] as number) / count - m * m, 0)), 0.1 * gSd));
  }
  return { mode, mean, sd, scale };
}

/** Checks a transform read back from JSON against the data it is applied to. */
export function checkInputTransform(t: unknown, dim: number): InputTransform {
  const o = t as InputTransform;
  if (typeof o !== "object" || o === null || !INPUT_MODES.includes(o.mode)) bad("checkInputTransform", "mode", o?.mode, INPUT_MODES.join(" | "));
  const want = o.mode === "raw" ? 0 : o.mode === "standardize" ? 1 : dim;
  for (const k of ["mean", "sd"] as const) {
    const v = o[k];
    if (!Array.isArray(v) || v.length !== want || !v.every((x) => Number.isFinite(x))) bad("checkInputTransform", k, Array.isArray(v) ? `${v.length} values` : v, `${want} finite numbers`);
  }
  if (!o.sd.every((x) => x > 0)) bad("checkInputTransform", "sd", o.sd, "numbers > 0");
  if (!(typeof o.scale === "number" && Number.isFinite(o.scale) && o.scale > 0)) bad("checkInputTransform", "scale", o.scale, "a finite number > 0");
  return o;
}

/** The data with the transform applied (a copy; labels and indices shared). */
export function applyInputTransform(data: Dataset, t: InputTransform): Dataset {
  checkInputTransform(t, data.dim);
  if (t.mode === "raw") return data;
  const { dim } = data;
  const images = new Float32Array(data.images.length);
  const global = t.mean.length === 1;
  for (let i = 0; i < data.count; i++) {
    for (let j = 0; j < dim; j++) {
      const k = global ? 0 : j;
      images[i * dim + j] = (t.scale * ((data.images[i * dim + j] as number) - (t.mean[k] as number))) / (t.sd[k] as number);
    }
  }
  return { ...data, images };
}

/**
 * Splits `count` examples off `data` as a validation set, chosen by a seeded permutation
 * (`seed`); the rest, in their original order, stay for training.
 */
export function holdOut(data: Dataset, count: number, seed: number): { train: Dataset; validation: Dataset } {
  if (!Number.isInteger(count) || count < 1 || count >= data.count) bad("holdOut", "count", count, `an integer in [1, ${data.count - 1}]`);
  const perm = seededPermutation(data.count, seed);
  const isVal = new Uint8Array(data.count);
  for (let i = 0; i < count; i++) isVal[perm[i] as number] = 1;
  const pick = (want: number): Dataset => {
    const rows: number[] = [];
    for (let i = 0; i < data.count; i++) if (isVal[i] === want) rows.push(i);
    const images = new Float32Array(rows.length * data.dim);
    const labels = new Uint8Array(rows.length);
    const indices = new Uint32Array(rows.length);
    rows.forEach((r, k) => {
      images.set(data.images.subarray(r * data.dim, (r + 1) * data.dim), k * data.dim);
      labels[k] = data.labels[r] as number;
      indices[k] = data.indices[r] as number;
    });
    return { ...data, images, labels, indices, count: rows.length };
  };
  return { train: pick(0), validation: pick(1) };
}
