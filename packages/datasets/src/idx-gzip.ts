import { gunzipSync, gzipSync } from "node:zlib";
import { type IdxArray, type ParseIdxOptions, parseIdxWith, writeIdxWith } from "./idx.js";

const inflate = (b: Uint8Array): Uint8Array => gunzipSync(b);
const deflate = (b: Uint8Array): Uint8Array => gzipSync(b);

/** `parseIdx` that also inflates gzip data (synchronously, with node:zlib). */
export function parseIdxGzip(bytes: Uint8Array, file: string, options: ParseIdxOptions = {}): IdxArray {
  return parseIdxWith(inflate, bytes, file, options);
}

/** `writeIdx` that can also gzip-compress (with node:zlib). */
export function writeIdxGzip(array: Uint8Array | readonly number[], dims: readonly number[], gzip = false): Uint8Array {
  return writeIdxWith(deflate, array, dims, gzip);
}
