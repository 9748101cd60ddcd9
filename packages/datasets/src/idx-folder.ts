import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { DatasetError } from "./errors.js";
import { parseIdxGzip as parseIdx } from "./idx-gzip.js";
import { IDX_FILES, type IdxFolderOptions, type Part, splitFromParts } from "./idx-split.js";
import { checkSize } from "./split.js";
import type { DataSplit } from "./types.js";

export type { IdxFolderOptions } from "./idx-split.js";
export { IDX_FILES } from "./idx-split.js";

const FN = "loadIdxFolder";

async function readIdx(path: string, ndim: number): Promise<{ path: string; dims: readonly number[]; data: Uint8Array }> {
  const { dims, data } = parseIdx(new Uint8Array(await readFile(path)), path, { ndim });
  return { path, dims, data };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The path of each file, raw preferred over `.gz`; every missing file is named at once. */
async function locate(dir: string): Promise<Record<keyof typeof IDX_FILES, string>> {
  const found: Partial<Record<keyof typeof IDX_FILES, string>> = {};
  const missing: string[] = [];
  for (const key of Object.keys(IDX_FILES) as (keyof typeof IDX_FILES)[]) {
    const name = IDX_FILES[key];
    for (const candidate of [name, `${name}.gz`]) {
      const path = join(dir, candidate);
      if (await isFile(path)) {
        found[key] = path;
        break;
      }
    }
    if (found[key] === undefined) missing.push(name);
  }
  if (missing.length > 0) {
    const tried = missing.map((name) => `${name} nor ${name}.gz`);
    throw new DatasetError("HTS_DATA_NOT_FOUND", `${FN}: ${dir}: found neither ${tried.join("; neither ")}`, {
      file: dir,
      parameter: "dir",
      value: missing.flatMap((name) => [name, `${name}.gz`]),
      expected: "the four MNIST IDX files, raw or .gz",
    });
  }
  return found as Record<keyof typeof IDX_FILES, string>;
}

/**
 * Loads MNIST-style IDX files from a folder: `train-images-idx3-ubyte`,
 * `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each
 * raw or gzip-compressed with a `.gz` suffix (the raw file is used when both exist).
 *
 * The first `trainSize` / `testSize` examples of each file are kept, in file order; pixels
 * become `Math.fround(v / 255)`.
 *
 * @param dir - The folder holding the four files.
 * @param options - How many examples to keep (default: all).
 * @returns The split; `source` is `"idx <absolute folder>"`.
 * @throws {@link DatasetError} `HTS_DATA_NOT_FOUND` for a missing folder or file,
 *   `HTS_DATA_FORMAT` for a malformed file (see {@link parseIdx}), image and label counts
 *   that differ, labels outside 0..9, or image sizes that differ between train and test;
 *   `HTS_INVALID_ARGUMENT` for sizes that are not positive integers or exceed the files.
 */
export async function loadIdxFolder(dir: string, options: IdxFolderOptions = {}): Promise<DataSplit> {
  if (typeof dir !== "string" || dir.length === 0) {
    throw new DatasetError("HTS_INVALID_ARGUMENT", `${FN}: dir must be a non-empty string, got ${String(dir)}`, {
      parameter: "dir",
      value: dir,
      expected: "non-empty string",
    });
  }
  checkSize(FN, "trainSize", options.trainSize);
  checkSize(FN, "testSize", options.testSize);
  const folder = resolve(dir);
  let isDir = false;
  try {
    isDir = (await stat(folder)).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    throw new DatasetError("HTS_DATA_NOT_FOUND", `${FN}: folder ${folder} does not exist`, {
      file: folder,
      parameter: "dir",
      value: dir,
      expected: "an existing folder",
    });
  }
  const paths = await locate(folder);
  const train: Part = { images: await readIdx(paths.trainImages, 3), labels: await readIdx(paths.trainLabels, 1) };
  const test: Part = { images: await readIdx(paths.testImages, 3), labels: await readIdx(paths.testLabels, 1) };
  return splitFromParts(FN, train, test, options, `idx ${folder}`);
}
