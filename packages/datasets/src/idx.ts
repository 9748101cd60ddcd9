import { DatasetError } from "./errors.js";

/** An array decoded from an IDX file: its dimensions and its unsigned bytes. */
export interface IdxArray {
  /** Sizes of the dimensions, outermost first (e.g. `[60000, 28, 28]`). */
  readonly dims: readonly number[];
  /** The values, row-major; a view into the input (or into the inflated gzip data). */
  readonly data: Uint8Array;
}

/** Options of {@link parseIdx}. */
export interface ParseIdxOptions {
  /** The number of dimensions the caller needs (3 for images, 1 for labels); any if omitted. */
  readonly ndim?: number;
}

const UNSIGNED_BYTE = 0x08;
/** IDX type codes 0x08, 0x09, 0x0B..0x0E. */
const TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x08, "unsigned byte"],
  [0x09, "signed byte"],
  [0x0b, "int16"],
  [0x0c, "int32"],
  [0x0d, "float32"],
  [0x0e, "float64"],
]);

function hex(bytes: Uint8Array, count: number): string {
  const shown = Array.from(bytes.subarray(0, count), (b) => b.toString(16).padStart(2, "0"));
  return `0x${shown.join("")}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * Decodes an IDX file (the format of the original MNIST distribution).
 *
 * Layout: two zero bytes, a type byte (only `0x08`, unsigned byte, is accepted), the
 * number of dimensions `d`, then `d` big-endian u32 sizes, then the values. Data that
 * starts with the gzip signature `1f 8b` is inflated first, whatever the file name, by the
 * `parseIdx` of `@hts/datasets/node`; the root's `parseIdx` refuses it (`HTS_DATA_FORMAT`):
 * inflate it first with {@link gunzipBytes}.
 *
 * @param bytes - The file's content, raw or gzip-compressed.
 * @param file - The file's name or path, used in error messages only.
 * @param options - `ndim` to require a number of dimensions.
 * @returns The dimensions and a view of the values.
 * @throws {@link DatasetError} `HTS_DATA_FORMAT` for a broken gzip stream, a wrong magic
 *   number, an unsupported type, a dimension count other than `options.ndim`, a truncated
 *   header, or a data section whose length differs from the product of the dimensions;
 *   `HTS_INVALID_ARGUMENT` if `bytes` is not a `Uint8Array`.
 */
export function parseIdx(bytes: Uint8Array, file: string, options: ParseIdxOptions = {}): IdxArray {
  return parseIdxWith(undefined, bytes, file, options);
}

/** @internal A synchronous gzip inflater or deflater (the Node entry passes node:zlib's). */
export type GzipFn = (bytes: Uint8Array) => Uint8Array;

/** @internal The error for gzip data that does not inflate (`fn` names the caller). */
export function brokenGzip(fn: string, file: string, cause: unknown): DatasetError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new DatasetError("HTS_DATA_FORMAT", `${fn}: ${file}: broken gzip data (${why})`, {
    file,
    parameter: "gzip",
    value: why,
    expected: "a complete gzip stream",
  });
}

/** @internal {@link parseIdx} with the gzip inflater to use (none at the platform-neutral root). */
export function parseIdxWith(gunzip: GzipFn | undefined, bytes: Uint8Array, file: string, options: ParseIdxOptions = {}): IdxArray {
  if (!(bytes instanceof Uint8Array)) {
    throw new DatasetError("HTS_INVALID_ARGUMENT", `parseIdx: ${file}: bytes must be a Uint8Array`, {
      file,
      parameter: "bytes",
      value: bytes,
      expected: "Uint8Array",
    });
  }
  const wanted = options.ndim;
  if (wanted !== undefined && !(Number.isInteger(wanted) && wanted >= 0 && wanted <= 255)) {
    throw new DatasetError(
      "HTS_INVALID_ARGUMENT",
      `parseIdx: options.ndim must be an integer in [0, 255], got ${String(wanted)}`,
      { file, parameter: "ndim", value: wanted, expected: "integer in [0, 255]" },
    );
  }
  let buf = bytes;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    if (gunzip === undefined) {
      throw new DatasetError(
        "HTS_DATA_FORMAT",
        `parseIdx: ${file}: gzip-compressed data; inflate it first with gunzipBytes (async, platform-neutral), or use parseIdx from @hts/datasets/node`,
        { file, parameter: "gzip", expected: "raw IDX data (the root entry does not inflate synchronously)" },
      );
    }
    try {
      buf = new Uint8Array(gunzip(buf));
    } catch (cause) {
      throw brokenGzip("parseIdx", file, cause);
    }
  }
  if (buf.length < 4) {
    throw new DatasetError(
      "HTS_DATA_FORMAT",
      `parseIdx: ${file}: truncated header: ${plural(buf.length, "byte")}, expected at least 4 (magic number)`,
      { file, parameter: "header", value: buf.length, expected: "at least 4 bytes" },
    );
  }
  if (buf[0] !== 0 || buf[1] !== 0) {
    throw new DatasetError(
      "HTS_DATA_FORMAT",
      `parseIdx: ${file}: wrong magic number ${hex(buf, 4)}, expected 0x0000 followed by a type byte and a dimension count (e.g. 0x00000803 for images, 0x00000801 for labels): not an IDX file`,
      { file, parameter: "magic", value: hex(buf, 4), expected: "0x000008NN" },
    );
  }
  const type = buf[2]!;
  if (type !== UNSIGNED_BYTE) {
    const name = TYPE_NAMES.get(type) ?? "unknown type";
    throw new DatasetError(
      "HTS_DATA_FORMAT",
      `parseIdx: ${file}: wrong magic number ${hex(buf, 4)}: data type 0x${type.toString(16).padStart(2, "0")} (${name}) is not supported, expected 0x08 (unsigned byte)`,
      { file, parameter: "type", value: type, expected: "0x08 (unsigned byte)" },
    );
  }
  const ndim = buf[3]!;
  if (wanted !== undefined && ndim !== wanted) {
    throw new DatasetError(
      "HTS_DATA_FORMAT",
      `parseIdx: ${file}: header declares ${plural(ndim, "dimension")}, expected ${wanted}`,
      { file, parameter: "ndim", value: ndim, expected: String(wanted) },
    );
  }
  const headerLength = 4 + 4 * ndim;
  if (buf.length < headerLength) {
    throw new DatasetError(
      "HTS_DATA_FORMAT",
      `parseIdx: ${file}: truncated header: ${plural(buf.length, "byte")}, expected ${headerLength} for ${plural(ndim, "dimension")}`,
      { file, parameter: "header", value: buf.length, expected: `${headerLength} bytes` },
    );
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let k = 0; k < ndim; k++) {
    const d = view.getUint32(4 + 4 * k, false);
    dims.push(d);
    size *= d;
  }
  const available = buf.length - headerLength;
  if (available !== size) {
    const shape = dims.length > 0 ? dims.join(" x ") : "scalar";
    const what = available < size ? "truncated data" : "extra data after the values";
    throw new DatasetError(
      "HTS_DATA_FORMAT",
      `parseIdx: ${file}: ${what}: the data section has ${available} bytes, the header (${shape}) declares ${size}`,
      { file, parameter: "data", value: available, expected: `${size} bytes` },
    );
  }
  return { dims, data: buf.subarray(headerLength) };
}

/**
 * Encodes unsigned bytes as an IDX file (type `0x08`), optionally gzip-compressed (gzip only
 * from `@hts/datasets/node`); the
 * inverse of {@link parseIdx}, for tests and tools.
 *
 * @param array - The values, row-major; plain numbers must be integers in [0, 255].
 * @param dims - The dimension sizes, outermost first; their product must equal the length.
 * @param gzip - Compress the result with gzip (default `false`).
 * @throws {@link DatasetError} `HTS_INVALID_ARGUMENT` for bad dimensions or values.
 */
export function writeIdx(
  array: Uint8Array | readonly number[],
  dims: readonly number[],
  gzip = false,
): Uint8Array {
  return writeIdxWith(undefined, array, dims, gzip);
}

/** @internal {@link writeIdx} with the gzip deflater to use (none at the platform-neutral root). */
export function writeIdxWith(
  gzipSync: GzipFn | undefined,
  array: Uint8Array | readonly number[],
  dims: readonly number[],
  gzip = false,
): Uint8Array {
  if (gzip && gzipSync === undefined) {
    throw new DatasetError("HTS_INVALID_ARGUMENT", "writeIdx: gzip is only available from @hts/datasets/node", {
      parameter: "gzip",
      value: gzip,
      expected: "false (or writeIdx from @hts/datasets/node)",
    });
  }
  if (!Array.isArray(dims) || dims.length > 255) {
    throw new DatasetError("HTS_INVALID_ARGUMENT", "writeIdx: dims must be an array of at most 255 sizes", {
      parameter: "dims",
      value: dims,
      expected: "array of at most 255 integers",
    });
  }
  let size = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) {
      throw new DatasetError(
        "HTS_INVALID_ARGUMENT",
        `writeIdx: dims must hold integers in [0, 4294967295], got ${String(d)}`,
        { parameter: "dims", value: dims, expected: "integers in [0, 4294967295]" },
      );
    }
    size *= d;
  }
  if (array.length !== size) {
    throw new DatasetError(
      "HTS_INVALID_ARGUMENT",
      `writeIdx: array has ${array.length} values, dims (${dims.join(" x ")}) need ${size}`,
      { parameter: "array", value: array.length, expected: `${size} values` },
    );
  }
  const headerLength = 4 + 4 * dims.length;
  const out = new Uint8Array(headerLength + size);
  out[2] = UNSIGNED_BYTE;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  for (let k = 0; k < dims.length; k++) view.setUint32(4 + 4 * k, dims[k]!, false);
  if (array instanceof Uint8Array) {
    out.set(array, headerLength);
  } else {
    for (let i = 0; i < size; i++) {
      const v = array[i]!;
      if (!Number.isInteger(v) || v < 0 || v > 255) {
        throw new DatasetError(
          "HTS_INVALID_ARGUMENT",
          `writeIdx: array[${i}] is ${String(v)}, expected an integer in [0, 255]`,
          { parameter: "array", value: v, expected: "integer in [0, 255]" },
        );
      }
      out[headerLength + i] = v;
    }
  }
  return gzip && gzipSync ? new Uint8Array(gzipSync(out)) : out;
}
