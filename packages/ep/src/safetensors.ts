/**
 * Element types of the safetensors format supported here. `F16` and `BF16` are carried as
 * raw 16-bit patterns (`Uint16Array`); `BOOL` as bytes (`Uint8Array`).
 */
export type SafetensorsDtype =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U64"
  | "U32"
  | "U16"
  | "U8"
  | "BOOL";

/** The typed array that holds each {@link SafetensorsDtype}. */
export interface SafetensorsArrays {
  F64: Float64Array;
  F32: Float32Array;
  F16: Uint16Array;
  BF16: Uint16Array;
  I64: BigInt64Array;
  I32: Int32Array;
  I16: Int16Array;
  I8: Int8Array;
  U64: BigUint64Array;
  U32: Uint32Array;
  U16: Uint16Array;
  U8: Uint8Array;
  BOOL: Uint8Array;
}

/** Any typed array a tensor can hold. */
export type SafetensorsData = SafetensorsArrays[SafetensorsDtype];

/** One tensor: its element type, its shape (outermost first) and its values, row-major. */
export type SafetensorsTensor = {
  [D in SafetensorsDtype]: {
    readonly dtype: D;
    readonly shape: readonly number[];
    readonly data: SafetensorsArrays[D];
  };
}[SafetensorsDtype];

/** The content of a safetensors file. */
export interface SafetensorsContent {
  /** The tensors, in the order of the file's header; each `data` is a fresh copy. */
  readonly tensors: Map<string, SafetensorsTensor>;
  /** The `__metadata__` strings (empty when the file has none). */
  readonly metadata: Record<string, string>;
}

/** Tensors to write: a `Map` keeps any order; a plain object lists integer-like names first, as JavaScript does. */
export type SafetensorsInput = ReadonlyMap<string, SafetensorsTensor> | Readonly<Record<string, SafetensorsTensor>>;

/** Error codes of {@link CheckpointError}. */
export type CheckpointErrorCode = "HTS_CHECKPOINT_FORMAT" | "HTS_INVALID_ARGUMENT";

/** Structured details of a {@link CheckpointError}. */
export interface CheckpointErrorDetails {
  /** The file concerned (`"<buffer>"` for bytes in memory). */
  readonly file?: string;
  /** The tensor concerned, if any. */
  readonly tensor?: string;
  /** The argument or header field concerned, if any. */
  readonly parameter?: string;
  /** What was found. */
  readonly value?: unknown;
  /** What was expected, in words. */
  readonly expected?: string;
}

/**
 * Raised for a malformed safetensors file (`HTS_CHECKPOINT_FORMAT`) or a bad argument to
 * the writer (`HTS_INVALID_ARGUMENT`). The message names the function, the file and the
 * problem; `code` is stable.
 */
export class CheckpointError extends Error {
  override readonly name = "CheckpointError";
  /** Stable machine-readable code. */
  readonly code: CheckpointErrorCode;
  /** The file concerned. */
  readonly file: string | undefined;
  /** The tensor concerned, if any. */
  readonly tensor: string | undefined;
  /** The argument or header field concerned, if any. */
  readonly parameter: string | undefined;
  /** What was found, if relevant. */
  readonly value: unknown;
  /** What was expected, if relevant. */
  readonly expected: string | undefined;
  constructor(code: CheckpointErrorCode, message: string, details: CheckpointErrorDetails = {}) {
    super(message);
    this.code = code;
    this.file = details.file;
    this.tensor = details.tensor;
    this.parameter = details.parameter;
    this.value = details.value;
    this.expected = details.expected;
  }
}

/** Largest header accepted, in bytes (the limit of the reference implementation). */
export const SAFETENSORS_MAX_HEADER = 100_000_000;

const METADATA_KEY = "__metadata__";

interface DtypeInfo {
  readonly size: number;
  readonly array: string;
  readonly make: (buffer: ArrayBuffer) => SafetensorsData;
  readonly is: (data: unknown) => boolean;
}

const DTYPES: ReadonlyMap<string, DtypeInfo> = new Map<string, DtypeInfo>([
  ["F64", { size: 8, array: "Float64Array", make: (b) => new Float64Array(b), is: (d) => d instanceof Float64Array }],
  ["F32", { size: 4, array: "Float32Array", make: (b) => new Float32Array(b), is: (d) => d instanceof Float32Array }],
  ["F16", { size: 2, array: "Uint16Array", make: (b) => new Uint16Array(b), is: (d) => d instanceof Uint16Array }],
  ["BF16", { size: 2, array: "Uint16Array", make: (b) => new Uint16Array(b), is: (d) => d instanceof Uint16Array }],
  ["I64", { size: 8, array: "BigInt64Array", make: (b) => new BigInt64Array(b), is: (d) => d instanceof BigInt64Array }],
  ["I32", { size: 4, array: "Int32Array", make: (b) => new Int32Array(b), is: (d) => d instanceof Int32Array }],
  ["I16", { size: 2, array: "Int16Array", make: (b) => new Int16Array(b), is: (d) => d instanceof Int16Array }],
  ["I8", { size: 1, array: "Int8Array", make: (b) => new Int8Array(b), is: (d) => d instanceof Int8Array }],
  ["U64", { size: 8, array: "BigUint64Array", make: (b) => new BigUint64Array(b), is: (d) => d instanceof BigUint64Array }],
  ["U32", { size: 4, array: "Uint32Array", make: (b) => new Uint32Array(b), is: (d) => d instanceof Uint32Array }],
  ["U16", { size: 2, array: "Uint16Array", make: (b) => new Uint16Array(b), is: (d) => d instanceof Uint16Array }],
  ["U8", { size: 1, array: "Uint8Array", make: (b) => new Uint8Array(b), is: (d) => d instanceof Uint8Array }],
  ["BOOL", { size: 1, array: "Uint8Array", make: (b) => new Uint8Array(b), is: (d) => d instanceof Uint8Array }],
]);

const DTYPE_LIST = [...DTYPES.keys()].join(", ");

/** True on little-endian hosts (all common ones); big-endian hosts swap bytes. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverses the byte order of each `size`-byte element, in place. */
function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let at = 0; at < bytes.length; at += size) {
    for (let lo = at, hi = at + size - 1; lo < hi; lo++, hi--) {
      const t = bytes[lo]!;
      bytes[lo] = bytes[hi]!;
      bytes[hi] = t;
    }
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function isShape(shape: unknown): shape is number[] {
  return Array.isArray(shape) && shape.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0);
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// ---------------------------------------------------------------------------------------
// Writing

function badArgument(message: string, details: CheckpointErrorDetails): CheckpointError {
  return new CheckpointError("HTS_INVALID_ARGUMENT", `encodeSafetensors: ${message}`, details);
}

function entriesOf(tensors: SafetensorsInput): [string, SafetensorsTensor][] {
  if (tensors instanceof Map) return [...(tensors as ReadonlyMap<string, SafetensorsTensor>).entries()];
  if (tensors === null || typeof tensors !== "object" || Array.isArray(tensors)) {
    throw badArgument("tensors must be a Map or a plain object of tensors", {
      parameter: "tensors",
      value: tensors,
      expected: "Map<string, tensor> or Record<string, tensor>",
    });
  }
  return Object.entries(tensors as Readonly<Record<string, SafetensorsTensor>>);
}

/**
 * Encodes tensors in the safetensors format: an 8-byte little-endian header length `N`,
 * `N` bytes of JSON header (`__metadata__` first when given, then one entry per tensor
 * with `dtype`, `shape` and `data_offsets`), padded with spaces so that `N` is a multiple
 * of 8, then the tensors' bytes, little-endian, contiguous, in the order given.
 *
 * @param tensors - Name to tensor; the typed array must match the dtype (e.g.
 *   `Float32Array` for `F32`) and hold exactly the product of the shape.
 * @param metadata - Optional string-to-string metadata, stored as `__metadata__`.
 * @throws {@link CheckpointError} `HTS_INVALID_ARGUMENT` for a bad name, dtype, shape,
 *   array or metadata.
 */
export function encodeSafetensors(tensors: SafetensorsInput, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const entries = entriesOf(tensors);
  const parts: string[] = [];
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
      throw badArgument("metadata must be an object of strings", {
        parameter: "metadata",
        value: metadata,
        expected: "Record<string, string>",
      });
    }
    const fields: string[] = [];
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== "string" || LONE_SURROGATE.test(key) || LONE_SURROGATE.test(value)) {
        throw badArgument(`metadata[${JSON.stringify(key)}] must be a well-formed string, got ${String(value)}`, {
          parameter: "metadata",
          value,
          expected: "well-formed string",
        });
      }
      fields.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
    }
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${fields.join(",")}}`);
  }
  let offset = 0;
  const blocks: { data: SafetensorsData; size: number }[] = [];
  for (const [name, tensor] of entries) {
    if (name === METADATA_KEY || LONE_SURROGATE.test(name)) {
      throw badArgument(`tensor name ${JSON.stringify(name)} is not allowed`, {
        tensor: name,
        parameter: "name",
        value: name,
        expected: `a well-formed string other than "${METADATA_KEY}"`,
      });
    }
    if (tensor === null || typeof tensor !== "object") {
      throw badArgument(`tensor "${name}" must be an object { dtype, shape, data }`, {
        tensor: name,
        parameter: "tensor",
        value: tensor,
        expected: "{ dtype, shape, data }",
      });
    }
    const info = typeof tensor.dtype === "string" ? DTYPES.get(tensor.dtype) : undefined;
    if (info === undefined) {
      throw badArgument(`tensor "${name}": unknown dtype ${JSON.stringify(tensor.dtype)}, expected one of ${DTYPE_LIST}`, {
        tensor: name,
        parameter: "dtype",
        value: tensor.dtype,
        expected: DTYPE_LIST,
      });
    }
    if (!isShape(tensor.shape)) {
      throw badArgument(`tensor "${name}": shape must be an array of non-negative integers, got ${JSON.stringify(tensor.shape)}`, {
        tensor: name,
        parameter: "shape",
        value: tensor.shape,
        expected: "array of non-negative integers",
      });
    }
    if (!info.is(tensor.data)) {
      const got = (tensor.data as { constructor?: { name?: string } } | undefined)?.constructor?.name ?? typeof tensor.data;
      throw badArgument(`tensor "${name}": dtype ${tensor.dtype} needs a ${info.array}, got ${got}`, {
        tensor: name,
        parameter: "data",
        value: got,
        expected: info.array,
      });
    }
    const count = elementCount(tensor.shape);
    if (tensor.data.length !== count) {
      throw badArgument(`tensor "${name}": data has ${tensor.data.length} elements, shape [${tensor.shape.join(", ")}] needs ${count}`, {
        tensor: name,
        parameter: "data",
        value: tensor.data.length,
        expected: `${count} elements`,
      });
    }
    const bytes = count * info.size;
    const entry = { dtype: tensor.dtype, shape: [...tensor.shape], data_offsets: [offset, offset + bytes] };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`);
    blocks.push({ data: tensor.data, size: info.size });
    offset += bytes;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  if (headerLength > SAFETENSORS_MAX_HEADER) {
    throw badArgument(`header would take ${headerLength} bytes, more than the limit of ${SAFETENSORS_MAX_HEADER}`, {
      parameter: "tensors",
      value: headerLength,
      expected: `at most ${SAFETENSORS_MAX_HEADER} bytes of header`,
    });
  }
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const { data, size } of blocks) {
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    out.set(raw, at);
    if (!LITTLE_ENDIAN) swapBytes(out.subarray(at, at + raw.length), size);
    at += raw.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Reading

/**
 * Checks that no JSON object in `text` (already valid JSON) repeats a key, since
 * `JSON.parse` silently keeps the last one; keys are compared after unescaping. Returns
 * the keys of the outermost object in their order.
 */
function scanKeys(text: string, fail: (message: string, tensor?: string) => never): string[] {
  interface Frame {
    readonly keys: Set<string> | null; // null for an array
    readonly name: string | undefined; // the key under which this container sits
  }
  const stack: Frame[] = [];
  const topKeys: string[] = [];
  let expectKey = false;
  let lastKey: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let end = i + 1;
      while (text.charCodeAt(end) !== 0x22) end += text.charCodeAt(end) === 0x5c ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top?.keys) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) {
          if (stack.length === 1) fail(`duplicate name ${JSON.stringify(key)} in the header`, key);
          fail(`duplicate key ${JSON.stringify(key)} inside ${JSON.stringify(top.name)} in the header`, top.name);
        }
        top.keys.add(key);
        if (stack.length === 1) topKeys.push(key);
        lastKey = key;
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b) {
      stack.push({ keys: new Set(), name: lastKey });
      expectKey = true;
    } else if (c === 0x5b) {
      stack.push({ keys: null, name: lastKey });
      expectKey = false;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      expectKey = stack[stack.length - 1]?.keys != null;
    }
  }
  return topKeys;
}

interface Entry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

function decode(bytes: Uint8Array, file: string, fn: string): SafetensorsContent {
  const fail = (message: string, tensor?: string, parameter?: string): never => {
    const details: CheckpointErrorDetails = tensor === undefined ? { file } : { file, tensor };
    throw new CheckpointError("HTS_CHECKPOINT_FORMAT", `${fn}: ${file}: ${message}`, parameter === undefined ? details : { ...details, parameter });
  };
  if (!(bytes instanceof Uint8Array)) {
    throw new CheckpointError("HTS_INVALID_ARGUMENT", `${fn}: ${file}: bytes must be a Uint8Array`, {
      file,
      parameter: "bytes",
      value: bytes,
      expected: "Uint8Array",
    });
  }
  if (bytes.length < 8) {
    fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length`, undefined, "header");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 0x1_0000_0000;
  if (headerLength > SAFETENSORS_MAX_HEADER) {
    fail(
      `not a safetensors file: its first 8 bytes give a header length of ${headerLength}, above the limit of ${SAFETENSORS_MAX_HEADER} bytes`,
      undefined,
      "header",
    );
  }
  if (8 + headerLength > bytes.length) {
    fail(`header length ${headerLength} exceeds the file (${bytes.length} bytes, ${bytes.length - 8} after the length)`, undefined, "header");
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    return fail("header is not valid UTF-8", undefined, "header");
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    return fail(`header is not valid JSON (${error instanceof Error ? error.message : String(error)})`, undefined, "header");
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    fail(`header is not a JSON object but ${header === null ? "null" : Array.isArray(header) ? "an array" : typeof header}`, undefined, "header");
  }
  const names = scanKeys(text, (message, tensor) => fail(message, tensor, "header"));
  const fields = header as Record<string, unknown>;
  const dataLength = bytes.length - 8 - headerLength;

  const metadata: [string, string][] = [];
  if (Object.hasOwn(fields, METADATA_KEY)) {
    const meta = fields[METADATA_KEY];
    if (meta === null || typeof meta !== "object" || Array.isArray(meta)) {
      fail(`"${METADATA_KEY}" must be an object of strings`, undefined, METADATA_KEY);
    }
    for (const [key, value] of Object.entries(meta as Record<string, unknown>)) {
      if (typeof value !== "string") {
        fail(`"${METADATA_KEY}" must map strings to strings, but ${JSON.stringify(key)} holds ${JSON.stringify(value)}`, undefined, METADATA_KEY);
      }
      metadata.push([key, value as string]);
    }
  }

  const entries: Entry[] = [];
  for (const name of names) {
    if (name === METADATA_KEY) continue;
    const info = fields[name];
    const at = `tensor ${JSON.stringify(name)}`;
    if (info === null || typeof info !== "object" || Array.isArray(info)) {
      fail(`${at}: entry must be an object { dtype, shape, data_offsets }`, name, "entry");
    }
    const { dtype, shape, data_offsets: offsets, ...rest } = info as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length > 0) {
      fail(`${at}: unknown field ${JSON.stringify(extra[0])}, expected only dtype, shape and data_offsets`, name, "entry");
    }
    const type = typeof dtype === "string" ? DTYPES.get(dtype) : undefined;
    if (type === undefined) {
      fail(`${at}: unknown dtype ${JSON.stringify(dtype)}, expected one of ${DTYPE_LIST}`, name, "dtype");
    }
    if (!isShape(shape)) {
      fail(`${at}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`, name, "shape");
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => typeof o === "number" && Number.isSafeInteger(o) && o >= 0)
    ) {
      fail(`${at}: data_offsets must be two non-negative integers [begin, end], got ${JSON.stringify(offsets)}`, name, "data_offsets");
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(`${at}: data_offsets [${begin}, ${end}] has begin after end`, name, "data_offsets");
    if (end > dataLength) {
      fail(`${at}: data_offsets [${begin}, ${end}] runs past the data section (${dataLength} bytes)`, name, "data_offsets");
    }
    const shp = shape as number[];
    const size = type!.size;
    const wanted = elementCount(shp) * size;
    if (end - begin !== wanted) {
      fail(
        `${at}: data_offsets [${begin}, ${end}] span ${end - begin} bytes, but shape [${shp.join(", ")}] of ${String(dtype)} needs ${wanted}`,
        name,
        "data_offsets",
      );
    }
    entries.push({ name, dtype: dtype as SafetensorsDtype, shape: shp, begin, end });
  }

  // The tensors must tile the data section exactly: no overlap, no gap, nothing after.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: Entry | undefined;
  for (const e of sorted) {
    if (e.begin < covered && e.begin < e.end) {
      fail(
        `tensors ${JSON.stringify(previous!.name)} [${previous!.begin}, ${previous!.end}) and ${JSON.stringify(e.name)} [${e.begin}, ${e.end}) overlap`,
        e.name,
        "data_offsets",
      );
    }
    if (e.begin > covered) {
      fail(`bytes [${covered}, ${e.begin}) of the data section belong to no tensor`, e.name, "data_offsets");
    }
    if (e.end > covered) {
      covered = e.end;
      previous = e;
    }
  }
  if (covered !== dataLength) {
    fail(`bytes [${covered}, ${dataLength}) at the end of the data section belong to no tensor`, undefined, "data_offsets");
  }

  const start = 8 + headerLength;
  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    const type = DTYPES.get(e.dtype)!;
    // slice() copies into a fresh, aligned buffer, whatever the alignment of the input.
    const copy = bytes.slice(start + e.begin, start + e.end);
    if (!LITTLE_ENDIAN) swapBytes(copy, type.size);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: type.make(copy.buffer) } as SafetensorsTensor);
  }
  return { tensors, metadata: Object.fromEntries(metadata) };
}

/**
 * Decodes a safetensors file held in memory. Nothing in the file is executed: the header
 * is parsed as JSON and validated strictly, and each tensor's bytes are copied into a new
 * typed array (so unaligned offsets are fine and the result does not alias `bytes`).
 *
 * The header length must fit the file and the 100 MB limit; the header must be UTF-8
 * JSON, an object with no repeated key; `__metadata__`, if present, must map strings to
 * strings; each tensor needs a known dtype, a shape of non-negative integers and
 * `data_offsets` `[begin, end]` matching shape x dtype size; the tensors must cover the
 * data section exactly, without overlap. A header need not be padded.
 *
 * @param bytes - The whole file.
 * @param file - A name for messages (default `"<buffer>"`).
 * @returns The tensors, in header order, and the metadata.
 * @throws {@link CheckpointError} `HTS_CHECKPOINT_FORMAT` naming the file, the tensor
 *   where there is one, and the problem.
 */
export function decodeSafetensors(bytes: Uint8Array, file = "<buffer>"): SafetensorsContent {
  return decode(bytes, file, "decodeSafetensors");
}

/** @internal `decodeSafetensors` with the calling function's name for messages (used by the Node entry). */
export function decodeSafetensorsNamed(bytes: Uint8Array, file: string, fn: string): SafetensorsContent {
  return decode(bytes, file, fn);
}
