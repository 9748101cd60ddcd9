import { DatasetError } from "./errors.js";
import type { Dataset } from "./types.js";

/** Sizes requested by a loader; `undefined` means the loader's default. */
export interface SizeOptions {
  readonly trainSize?: number | undefined;
  readonly testSize?: number | undefined;
}

/** Checks that a requested size, when given, is a positive integer. */
export function checkSize(fn: string, parameter: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new DatasetError(
      "HTS_INVALID_ARGUMENT",
      `${fn}: ${parameter} must be a positive integer, got ${String(value)}`,
      { parameter, value, expected: "positive integer" },
    );
  }
}

/** Float32 value of each byte `v / 255`, rounded once. */
export const BYTE_TO_UNIT: Float32Array = (() => {
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = Math.fround(v / 255);
  return table;
})();

/**
 * Gathers examples `order[0..count)` of a source (pixels already float32) into a
 * {@link Dataset}. Internal: callers have checked the bounds.
 */
export function gather(
  pixels: Float32Array,
  labels: Uint8Array,
  order: Uint32Array,
  rows: number,
  cols: number,
): Dataset {
  const dim = rows * cols;
  const count = order.length;
  const images = new Float32Array(count * dim);
  const out = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    const i = order[k]!;
    images.set(pixels.subarray(i * dim, (i + 1) * dim), k * dim);
    out[k] = labels[i]!;
  }
  return { images, labels: out, indices: order.slice(), count, dim, rows, cols, classes: 10 };
}
