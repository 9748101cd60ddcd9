import type {
  ActivationKind,
  AdamStepOptions,
  Backend,
  EulerStepOptions,
  FloatArray,
  GemmOptions,
  Matrix,
  SgdStepOptions,
} from "./backend.js";
import { KernelError } from "./errors.js";
import { KERNELS_WASM, KERNELS_WASM_SHARED } from "./wasm/kernels-wasm.generated.js";

/** The exports of `src/wasm/kernels.wat` (pointers are byte offsets into the linear memory). */
export interface WasmKernels {
  axpby(alpha: number, a: number, beta: number, b: number, o: number, n: number): void;
  mul(a: number, b: number, o: number, n: number): void;
  activate(kind: number, deriv: number, x: number, o: number, n: number): void;
  euler(s: number, v: number, dt: number, o: number, rows: number, cols: number, scale: number, lo: number, hi: number): void;
  colsums(x: number, o: number, rows: number, cols: number, alpha: number, beta: number): void;
  softmax(x: number, o: number, rows: number, cols: number): void;
  sgd(p: number, g: number, v: number, n: number, lr: number, momentum: number, weightDecay: number): void;
  adam(p: number, g: number, m: number, v: number, n: number, lr: number, b1: number, b2: number, eps: number, wd: number, c1: number, c2: number): void;
  transpose(src: number, dst: number, rows: number, cols: number): void;
  gemm(a: number, b: number, c: number, m: number, n: number, k: number, lda: number, ldb: number, ldc: number, alpha: number, beta: number): void;
}

const WASM_PAGE = 65536;
/** The most pages the kernels' memory import allows (2 GiB). */
const MAX_PAGES = 32768;
/** Bytes 0..63 are the kernels' own scratch (the Adam tail); allocations start after. */
const RESERVED = 64;
const ALIGN = 64;

const ACTIVATION_CODE: Readonly<Record<ActivationKind, number>> = { "hard-sigmoid": 0, sigmoid: 1, tanh: 2 };

/** The parts of the WebAssembly JavaScript API used here (typed locally: the package's lib is ES2023, without the DOM). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<{ exports: object }>;
  Memory: new (descriptor: { initial: number; maximum: number; shared?: boolean }) => WasmMemory;
}

/** The engine's WebAssembly object, or undefined. */
export function webAssembly(): WasmApi | undefined {
  const wa = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  return wa !== undefined && typeof wa.validate === "function" ? wa : undefined;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

let plainBytes: Uint8Array<ArrayBuffer> | undefined;
let sharedBytes: Uint8Array<ArrayBuffer> | undefined;
let plainModule: Promise<object> | undefined;
let sharedModule: Promise<object> | undefined;

/** The kernels module's bytes: with a plain memory import, or a shared one. */
export function wasmKernelBytes(shared = false): Uint8Array<ArrayBuffer> {
  if (shared) {
    sharedBytes ??= decodeBase64(KERNELS_WASM_SHARED);
    return sharedBytes;
  }
  plainBytes ??= decodeBase64(KERNELS_WASM);
  return plainBytes;
}

/**
 * Why the `wasm-f32` backend cannot run here, or null when it can: WebAssembly with the
 * SIMD128 instructions (Node 16.4+, current browsers).
 */
export function wasmUnavailableReason(): string | null {
  const wa = webAssembly();
  if (wa === undefined) return "this JavaScript engine has no WebAssembly";
  try {
    if (!wa.validate(wasmKernelBytes())) return "this JavaScript engine lacks the WebAssembly SIMD128 instructions";
  } catch (e) {
    return `WebAssembly rejected the kernels: ${(e as Error).message}`;
  }
  return null;
}

/** Compiles (once per process) the kernels module; call only where {@link wasmUnavailableReason} is null. */
export function compileWasmKernels(shared = false): Promise<object> {
  const wa = webAssembly() as WasmApi;
  if (shared) {
    sharedModule ??= wa.compile(wasmKernelBytes(true));
    return sharedModule;
  }
  plainModule ??= wa.compile(wasmKernelBytes());
  return plainModule;
}

/** A matrix in the backend's linear memory. */
class WasmMatrix implements Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly backend: string;
  /** Byte offset of entry [0, 0]. */
  ptr: number;
  /** Bytes reserved for it (a multiple of 64, with at least 16 spare bytes at the end). */
  readonly bytes: number;
  readonly length: number;
  /** Bumped by every write; a cached transpose is valid while its version matches. */
  version = 0;
  tPtr = 0;
  tBytes = 0;
  tVersion = -1;
  disposed = false;
  constructor(rows: number, cols: number, backend: string, ptr: number, bytes: number) {
    this.rows = rows;
    this.cols = cols;
    this.backend = backend;
    this.ptr = ptr;
    this.bytes = bytes;
    this.length = rows * cols;
  }
}

/** Options of {@link createWasmBackend}. */
export interface WasmBackendOptions {
  /** Initial size of the linear memory in MiB (it grows as matrices are allocated; default 4). */
  readonly initialMiB?: number;
}

/**
 * Float32 storage in one WebAssembly linear memory, compute in hand-written WebAssembly
 * SIMD128 kernels (`src/wasm/kernels.wat`). Matrices are offsets into that memory, handed
 * out by a size-class free list; nothing is allocated per call once the scratch buffers
 * have grown to the largest shapes seen.
 */
class WasmBackend implements Backend {
  readonly name = "wasm-f32";
  readonly precision = "float32" as const;
  readonly #k: WasmKernels;
  readonly #memory: WasmMemory;
  #f32: Float32Array;
  #top = RESERVED;
  readonly #free = new Map<number, number[]>();
  #scratchPtr = 0;
  #scratchBytes = 0;

  constructor(kernels: WasmKernels, memory: WasmMemory) {
    this.#k = kernels;
    this.#memory = memory;
    this.#f32 = new Float32Array(memory.buffer);
  }

  /** Reserves `bytes` (rounded up, plus spare bytes for vector over-reads); returns the offset. */
  #alloc(bytes: number): [number, number] {
    const size = Math.ceil((bytes + 16) / ALIGN) * ALIGN;
    const list = this.#free.get(size);
    if (list !== undefined && list.length > 0) return [list.pop() as number, size];
    const ptr = this.#top;
    const end = ptr + size;
    const have = this.#memory.buffer.byteLength;
    if (end > have) {
      const pages = have / WASM_PAGE;
      const need = Math.ceil(end / WASM_PAGE) - pages;
      const grow = Math.min(MAX_PAGES - pages, Math.max(need, Math.ceil(pages / 2)));
      if (grow < need) {
        throw new KernelError("HTS_INVALID_ARGUMENT", `${this.name}: out of memory: ${end} bytes needed, the limit is ${MAX_PAGES * WASM_PAGE}`, {
          parameter: "shape",
          value: bytes,
          expected: "matrices that fit in 2 GiB together",
        });
      }
      this.#memory.grow(grow);
      this.#f32 = new Float32Array(this.#memory.buffer);
    }
    this.#top = end;
    return [ptr, size];
  }

  #release(ptr: number, size: number): void {
    let list = this.#free.get(size);
    if (list === undefined) {
      list = [];
      this.#free.set(size, list);
    }
    list.push(ptr);
  }

  /** A scratch area of at least `bytes`, grown (reallocated) only when too small. */
  #scratch(bytes: number): number {
    if (this.#scratchBytes < bytes + 16) {
      if (this.#scratchBytes > 0) this.#release(this.#scratchPtr, this.#scratchBytes);
      [this.#scratchPtr, this.#scratchBytes] = this.#alloc(bytes);
    }
    return this.#scratchPtr;
  }

  matrix(rows: number, cols: number, values?: ArrayLike<number>): Matrix {
    if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1) {
      throw new KernelError(
        "HTS_INVALID_ARGUMENT",
        `${this.name}.matrix: shape must be two positive integers, got ${String(rows)} x ${String(cols)}`,
        { parameter: "shape", value: [rows, cols], expected: "positive integers" },
      );
    }
    const [ptr, size] = this.#alloc(rows * cols * 4);
    const m = new WasmMatrix(rows, cols, this.name, ptr, size);
    this.#f32.fill(0, ptr >> 2, (ptr + size) >> 2);
    if (values !== undefined) this.write(m, values);
    return m;
  }

  write(m: Matrix, values: ArrayLike<number>): void {
    const w = m as WasmMatrix;
    if (values.length !== w.length) {
      throw new KernelError(
        "HTS_SHAPE_MISMATCH",
        `${this.name}.write: ${m.rows} x ${m.cols} matrix needs ${w.length} values, got ${values.length}`,
        { parameter: "values", value: values.length, expected: `${w.length} values` },
      );
    }
    this.#f32.set(values, w.ptr >> 2);
    w.version++;
  }

  read(m: Matrix): FloatArray {
    const w = m as WasmMatrix;
    return this.#f32.slice(w.ptr >> 2, (w.ptr >> 2) + w.length);
  }

  dispose(m: Matrix): void {
    const w = m as WasmMatrix;
    if (w.disposed) return;
    w.disposed = true;
    this.#release(w.ptr, w.bytes);
    if (w.tBytes > 0) this.#release(w.tPtr, w.tBytes);
    w.tBytes = 0;
    w.tVersion = -1;
  }

  copy(src: Matrix, dst: Matrix): void {
    const s = src as WasmMatrix;
    const d = dst as WasmMatrix;
    this.#f32.copyWithin(d.ptr >> 2, s.ptr >> 2, (s.ptr >> 2) + s.length);
    d.version++;
  }

  fill(m: Matrix, value: number): void {
    const w = m as WasmMatrix;
    this.#f32.fill(value, w.ptr >> 2, (w.ptr >> 2) + w.length);
    w.version++;
  }

  /** b^T in memory, recomputed only when b changed since the last time. */
  #transposed(b: WasmMatrix): number {
    if (b.tVersion !== b.version) {
      if (b.tBytes === 0) [b.tPtr, b.tBytes] = this.#alloc(b.length * 4);
      this.#k.transpose(b.ptr, b.tPtr, b.rows, b.cols);
      b.tVersion = b.version;
    }
    return b.tPtr;
  }

  gemm(a: Matrix, b: Matrix, out: Matrix, options: GemmOptions = {}): void {
    const { transA = false, transB = false, alpha = 1, beta = 0 } = options;
    const A = a as WasmMatrix;
    const B = b as WasmMatrix;
    const C = out as WasmMatrix;
    const m = C.rows;
    const n = C.cols;
    const k = transA ? A.rows : A.cols;
    // Both transposes become plain products: b^T comes from a cache kept per matrix
    // (weights change once per minibatch, their transposes are used at every step), a^T
    // (the batch outer product) is packed into scratch memory.
    const bPtr = transB ? this.#transposed(B) : B.ptr;
    let aPtr = A.ptr;
    if (transA) {
      aPtr = this.#scratch(A.length * 4);
      this.#k.transpose(A.ptr, aPtr, A.rows, A.cols);
    }
    this.#k.gemm(aPtr, bPtr, C.ptr, m, n, k, k, n, n, alpha, beta);
    C.version++;
  }

  broadcastRows(v: Matrix, out: Matrix): void {
    const V = v as WasmMatrix;
    const O = out as WasmMatrix;
    const f = this.#f32;
    const src = V.ptr >> 2;
    const n = O.cols;
    for (let r = 0, o = O.ptr >> 2; r < O.rows; r++, o += n) f.copyWithin(o, src, src + n);
    O.version++;
  }

  axpby(alpha: number, a: Matrix, beta: number, b: Matrix, out: Matrix): void {
    const O = out as WasmMatrix;
    this.#k.axpby(alpha, (a as WasmMatrix).ptr, beta, (b as WasmMatrix).ptr, O.ptr, O.length);
    O.version++;
  }

  mul(a: Matrix, b: Matrix, out: Matrix): void {
    const O = out as WasmMatrix;
    this.#k.mul((a as WasmMatrix).ptr, (b as WasmMatrix).ptr, O.ptr, O.length);
    O.version++;
  }

  activate(kind: ActivationKind, x: Matrix, out: Matrix): void {
    const O = out as WasmMatrix;
    this.#k.activate(ACTIVATION_CODE[kind], 0, (x as WasmMatrix).ptr, O.ptr, O.length);
    O.version++;
  }

  activateDerivative(kind: ActivationKind, x: Matrix, out: Matrix): void {
    const O = out as WasmMatrix;
    this.#k.activate(ACTIVATION_CODE[kind], 1, (x as WasmMatrix).ptr, O.ptr, O.length);
    O.version++;
  }

  softmaxRows(x: Matrix, out: Matrix): void {
    const O = out as WasmMatrix;
    this.#k.softmax((x as WasmMatrix).ptr, O.ptr, O.rows, O.cols);
    O.version++;
  }

  eulerStep(s: Matrix, v: Matrix, dt: Matrix, out: Matrix, options: EulerStepOptions = {}): void {
    const O = out as WasmMatrix;
    const clip = options.clip;
    this.#k.euler(
      (s as WasmMatrix).ptr,
      (v as WasmMatrix).ptr,
      (dt as WasmMatrix).ptr,
      O.ptr,
      O.rows,
      O.cols,
      options.scale ?? 1,
      clip ? clip[0] : Number.NEGATIVE_INFINITY,
      clip ? clip[1] : Number.POSITIVE_INFINITY,
    );
    O.version++;
  }

  columnSums(x: Matrix, out: Matrix, alpha = 1, beta = 0): void {
    const O = out as WasmMatrix;
    this.#k.colsums((x as WasmMatrix).ptr, O.ptr, x.rows, x.cols, alpha, beta);
    O.version++;
  }

  sgdStep(param: Matrix, grad: Matrix, velocity: Matrix | null, o: SgdStepOptions): void {
    const P = param as WasmMatrix;
    const V = velocity as WasmMatrix | null;
    this.#k.sgd(P.ptr, (grad as WasmMatrix).ptr, V ? V.ptr : 0, P.length, o.lr, o.momentum, o.weightDecay);
    P.version++;
    if (V) V.version++;
  }

  adamStep(param: Matrix, grad: Matrix, m: Matrix, v: Matrix, o: AdamStepOptions): void {
    const P = param as WasmMatrix;
    const M = m as WasmMatrix;
    const V = v as WasmMatrix;
    const c1 = 1 - o.beta1 ** o.step;
    const c2 = 1 - o.beta2 ** o.step;
    this.#k.adam(P.ptr, (grad as WasmMatrix).ptr, M.ptr, V.ptr, P.length, o.lr, o.beta1, o.beta2, o.epsilon, o.weightDecay, c1, c2);
    P.version++;
    M.version++;
    V.version++;
  }

  sum(m: Matrix): number {
    const w = m as WasmMatrix;
    const f = this.#f32;
    let acc = 0;
    for (let i = w.ptr >> 2, e = i + w.length; i < e; i++) acc += f[i] as number;
    return acc;
  }

  dot(a: Matrix, b: Matrix): number {
    const A = a as WasmMatrix;
    const f = this.#f32;
    const d = ((b as WasmMatrix).ptr >> 2) - (A.ptr >> 2);
    let acc = 0;
    for (let i = A.ptr >> 2, e = i + A.length; i < e; i++) acc += (f[i] as number) * (f[i + d] as number);
    return acc;
  }

  maxAbsDiff(a: Matrix, b: Matrix): number {
    const A = a as WasmMatrix;
    const f = this.#f32;
    const d = ((b as WasmMatrix).ptr >> 2) - (A.ptr >> 2);
    let max = 0;
    for (let i = A.ptr >> 2, e = i + A.length; i < e; i++) {
      const x = Math.abs((f[i] as number) - (f[i + d] as number));
      if (x > max) max = x;
      else if (Number.isNaN(x)) return x;
    }
    return max;
  }

  findNonFinite(m: Matrix): number {
    const w = m as WasmMatrix;
    const f = this.#f32;
    const base = w.ptr >> 2;
    for (let i = 0; i < w.length; i++) {
      const x = f[base + i] as number;
      if (x - x !== 0) return i;
    }
    return -1;
  }

  argmaxRows(m: Matrix): Int32Array {
    const w = m as WasmMatrix;
    const f = this.#f32;
    const out = new Int32Array(m.rows);
    for (let r = 0; r < m.rows; r++) {
      const o = (w.ptr >> 2) + r * m.cols;
      let best = 0;
      let bv = f[o] as number;
      for (let j = 1; j < m.cols; j++) {
        const v = f[o + j] as number;
        if (v > bv) {
          bv = v;
          best = j;
        }
      }
      out[r] = best;
    }
    return out;
  }
}

/**
 * The WebAssembly SIMD backend `wasm-f32`: float32 storage in one linear memory and
 * hand-written SIMD128 kernels. Throws `HTS_BACKEND_UNAVAILABLE` (saying why) where the
 * engine has no WebAssembly SIMD. Async because browsers compile modules asynchronously.
 */
export async function createWasmBackend(options: WasmBackendOptions = {}): Promise<Backend> {
  const why = wasmUnavailableReason();
  if (why !== null) {
    throw new KernelError("HTS_BACKEND_UNAVAILABLE", `createWasmBackend: ${why}`, {
      parameter: "backend",
      value: "wasm",
      expected: "WebAssembly with SIMD128",
    });
  }
  const mib = options.initialMiB ?? 4;
  if (typeof mib !== "number" || !Number.isFinite(mib) || mib <= 0 || mib > 2048) {
    throw new KernelError("HTS_INVALID_ARGUMENT", `createWasmBackend: initialMiB must be in (0, 2048], got ${String(mib)}`, {
      parameter: "initialMiB",
      value: mib,
      expected: "a number in (0, 2048]",
    });
  }
  const wa = webAssembly() as WasmApi;
  const memory = new wa.Memory({ initial: Math.ceil((mib * 1048576) / WASM_PAGE), maximum: MAX_PAGES });
  const module = await compileWasmKernels();
  const instance = await wa.instantiate(module, { env: { memory } });
  return new WasmBackend(instance.exports as unknown as WasmKernels, memory);
}
