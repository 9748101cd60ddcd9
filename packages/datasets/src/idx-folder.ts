import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { DatasetError } from "./errors.js";
import { parseIdx } from "./idx.js";
import { BYTE_TO_UNIT, checkSize } from "./split.js";
import type { Dataset, DataSplit } from "./types.js";

/** Options of {@link loadIdxFolder}. */
export interface IdxFolderOptions {
  /** Training examples to keep, the first N in file order (default: all). */
  readonly trainSize?: number | undefined;
  /** Test examples to keep, the first N in file order (default: all). */
  readonly testSize?: number | undefined;
}

/** The four file names of the MNIST distribution, each read raw or with a `.gz` suffix. */
export const IDX_FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

const FN = "loadIdxFolder";

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

async function readIdx(path: string, ndim: number): Promise<{ path: string; dims: readonly number[]; data: Uint8Array }> {
  const { dims, data } = parseIdx(new Uint8Array(await readFile(path)), path, { ndim });
  return { path, dims, data };
}

interface Part {
  readonly images: { path: string; dims: readonly number[]; data: Uint8Array };
  readonly labels: { path: string; dims: readonly number[]; data: Uint8Array };
}

function checkPart(part: Part): void {
  const { images, labels } = part;
  const n = images.dims[0]!;
  const m = labels.dims[0]!;
  if (n !== m) {
    throw new DatasetError(
      "HTS_DATA_FORMAT",
      `${FN}: ${images.path} holds ${n} images but ${labels.path} holds ${m} labels`,
      { file: labels.path, parameter: "count", value: m, expected: `${n} labels, as many as images` },
    );
  }
  const data = labels.data;
  for (let i = 0; i < data.length; i++) {
    if (data[i]! > 9) {
      throw new DatasetError(
        "HTS_DATA_FORMAT",
        `${FN}: ${labels.path}: label at index ${i} is ${data[i]}, expected 0..9`,
        { file: labels.path, parameter: `labels[${i}]`, value: data[i], expected: "integer in 0..9" },
      );
    }
  }
}

function take(part: Part, count: number, parameter: string): Dataset {
  const available = part.images.dims[0]!;
  if (count > available) {
    throw new DatasetError(
      "HTS_INVALID_ARGUMENT",
      `${FN}: ${parameter} is ${count}, but ${part.images.path} holds only ${available} images`,
      { file: part.images.path, parameter, value: count, expected: `at most ${available}` },
    );
  }
  const rows = part.images.dims[1]!;
  const cols = part.images.dims[2]!;
  const dim = rows * cols;
  const src = part.images.data;
  const images = new Float32Array(count * dim);
  for (let i = 0; i < images.length; i++) images[i] = BYTE_TO_UNIT[src[i]!]!;
  const indices = new Uint32Array(count);
  for (let i = 0; i < count; i++) indices[i] = i;
  return { images, labels: part.labels.data.slice(0, count), indices, count, dim, rows, cols, classes: 10 };
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
  checkPart(train);
  checkPart(test);
  const [, trainRows, trainCols] = train.images.dims;
  const [, testRows, testCols] = test.images.dims;
  if (trainRows !== testRows || trainCols !== testCols) {
    throw new DatasetError(
      "HTS_DATA_FORMAT",
      `${FN}: ${train.images.path} holds ${trainRows}x${trainCols} images but ${test.images.path} holds ${testRows}x${testCols}`,
      { file: test.images.path, parameter: "dims", value: [testRows, testCols], expected: `${trainRows}x${trainCols}` },
    );
  }
  return {
    train: take(train, options.trainSize ?? train.images.dims[0]!, "trainSize"),
    test: take(test, options.testSize ?? test.images.dims[0]!, "testSize"),
    source: `idx ${folder}`,
  };
}
