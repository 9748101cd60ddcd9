import { DatasetError } from "./errors.js";

/**
 * One-hot encodes class labels: row `i` of the result has a 1 in column `labels[i]` and 0
 * elsewhere.
 *
 * @param labels - Class labels, integers in `0..classes - 1`.
 * @param classes - Number of classes (default 10).
 * @returns `labels.length * classes` values, row-major.
 * @throws {@link DatasetError} `HTS_INVALID_ARGUMENT` for a bad class count or a label
 *   out of range.
 */
export function oneHot(labels: Uint8Array | readonly number[], classes = 10): Float32Array {
  if (!Number.isInteger(classes) || classes < 1) {
    throw new DatasetError("HTS_INVALID_ARGUMENT", `oneHot: classes must be a positive integer, got ${String(classes)}`, {
      parameter: "classes",
      value: classes,
      expected: "positive integer",
    });
  }
  const out = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= classes) {
      throw new DatasetError(
        "HTS_INVALID_ARGUMENT",
        `oneHot: labels[${i}] is ${String(c)}, expected an integer in 0..${classes - 1}`,
        { parameter: `labels[${i}]`, value: c, expected: `integer in 0..${classes - 1}` },
      );
    }
    out[i * classes + c] = 1;
  }
  return out;
}
