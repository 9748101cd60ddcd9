import { DatasetError } from "./errors.js";
import { brokenGzip, type IdxArray, parseIdx } from "./idx.js";
import { BYTE_TO_UNIT, checkSize } from "./split.js";
import type { Dataset, DataSplit } from "./types.js";

/** Options of {@link idxSplitFromBytes} and `loadIdxFolder` (`@hts/datasets/node`). */
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

/** @internal */
export interface Part {
  readonly images: { path: string; dims: readonly number[]; data: Uint8Array };
  readonly labels: { path: string; dims: readonly number[]; data: Uint8Array };
}

function checkPart(FN: string, part: Part): void {
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

function take(FN: string, part: Part, count: number, parameter: string): Dataset {
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

/** @internal The split of two parsed parts (train, test), checked; shared with `loadIdxFolder`. */
export function splitFromParts(FN: string, train: Part, test: Part, options: IdxFolderOptions, source: string): DataSplit {
  checkPart(FN, train);
  checkPart(FN, test);
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
    train: take(FN, train, options.trainSize ?? train.images.dims[0]!, "trainSize"),
    test: take(FN, test, options.testSize ?? test.images.dims[0]!, "testSize"),
    source,
  };
}

/**
 * Inflates gzip data with the platform's `DecompressionStream("gzip")` (browsers, Deno, Bun,
 * Node >= 18); data without the gzip signature `1f 8b` is returned as it is.
 *
 * @param bytes - Raw or gzip-compressed bytes.
 * @param file - A name for error messages.
 * @throws {@link DatasetError} `HTS_DATA_FORMAT` for a broken gzip stream, or when the
 *   platform has no `DecompressionStream`.
 */
export async function gunzipBytes(bytes: Uint8Array, file: string): Promise<Uint8Array> {
  if (!(bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b)) return bytes;
  const DS = (globalThis as { DecompressionStream?: new (format: "gzip") => TransformStream<Uint8Array, Uint8Array> }).DecompressionStream;
  if (DS === undefined) {
    throw new DatasetError("HTS_DATA_FORMAT", `gunzipBytes: ${file}: gzip data, but this platform has no DecompressionStream`, {
      file,
      parameter: "gzip",
      expected: "raw IDX data, or a platform with DecompressionStream",
    });
  }
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DS("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (cause) {
    throw brokenGzip("gunzipBytes", file, cause);
  }
}

/** The four IDX files of an MNIST-style data set, as bytes (raw or gzip-compressed). */
export interface IdxFileBytes {
  readonly trainImages: Uint8Array;
  readonly trainLabels: Uint8Array;
  readonly testImages: Uint8Array;
  readonly testLabels: Uint8Array;
}

/**
 * The split of the four MNIST-style IDX files given as bytes, platform-neutral (e.g. bytes
 * from `fetch`): the bytes counterpart of `loadIdxFolder` (`@hts/datasets/node`), with the
 * same checks and the same result. Gzip-compressed files are inflated with
 * {@link gunzipBytes}; errors name the files as in {@link IDX_FILES}.
 *
 * @param files - The four files' bytes.
 * @param options - How many examples to keep (default: all), and `source` for the result
 *   (default `"idx <bytes>"`).
 */
export async function idxSplitFromBytes(
  files: IdxFileBytes,
  options: IdxFolderOptions & { readonly source?: string | undefined } = {},
): Promise<DataSplit> {
  const FN = "idxSplitFromBytes";
  if (files === null || typeof files !== "object") {
    throw new DatasetError("HTS_INVALID_ARGUMENT", `${FN}: files must be an object with trainImages, trainLabels, testImages, testLabels`, {
      parameter: "files",
      value: files,
      expected: "{ trainImages, trainLabels, testImages, testLabels } of Uint8Array",
    });
  }
  checkSize(FN, "trainSize", options.trainSize);
  checkSize(FN, "testSize", options.testSize);
  const read = async (key: keyof typeof IDX_FILES, ndim: number) => {
    const path = IDX_FILES[key];
    const bytes = files[key];
    const raw = bytes instanceof Uint8Array ? await gunzipBytes(bytes, path) : bytes;
    const { dims, data }: IdxArray = parseIdx(raw, path, { ndim });
    return { path, dims, data };
  };
  const train: Part = { images: await read("trainImages", 3), labels: await read("trainLabels", 1) };
  const test: Part = { images: await read("testImages", 3), labels: await read("testLabels", 1) };
  return splitFromParts(FN, train, test, options, options.source ?? "idx <bytes>");
}
