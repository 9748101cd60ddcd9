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
import { KernelError, refuseGemmAlias } from "./errors.js";
import { argmaxRowsOf } from "./host-arrays.js";
import { KERNELS_WASM, KERNELS_WASM_SHARED } from "./wasm/kernels-wasm.generated.js";
import {
  CTRL_BLOCK,
  CTRL_COUNT,
  CTRL_FAILED,
  CTRL_GENERATION,
  CTRL_INTS,
  CTRL_NEXT,
  CTRL_LISTS,
  CTRL_ROWS,
  CTRL_RUNNING,
  DOT_N_MAX,
  type ExecKernels,
  listBytes,
  MAX_QUEUED,
  OP_ACTIVATE,
  OP_AXPBY,
  OP_BROADCAST,
  OP_COPY,
  DRIVE_DEAD,
  OP_DRIVE,
  OP_EULER,
  OP_FILL,
  OP_GEMM,
  OP_GRAD_EULER,
  OP_SGD,
  OP_GRAD_HSIG,
  OP_LEAKY,
  OP_MUL,
  OP_SLOTS,
  OP_SOFTMAX,
  product,
  runOps,
  SPARSE_DENSITY_MAX,
  SPARSE_K_MAX,
  SPIN_MS,
  STALL_MS,
  WAIT_SLICE_MS,
  workerSource,
} from "./wasm-exec.js";

/** The exports of `src/wasm/kernels.wat` (pointers are byte offsets into the linear memory). */
export interface WasmKernels extends ExecKernels {
  colsums(x: number, o: number, rows: number, cols: number, alpha: number, beta: number): void;
  adam(p: number, g: number, m: number, v: number, n: number, lr: number, b1: number, b2: number, eps: number, wd: number, c1: number, c2: number): void;
  transpose(src: number, dst: number, rows: number, cols: number): void;
  nonfinite(x: number, n: number): number;
  nonzeros(x: number, n: number): number;
  maxabsdiff(a: number, b: number, n: number): number;
}



const WASM_PAGE = 65536;
/** Most threads a backend runs on (the control block's size). */
const MAX_THREADS = 16;
/** The most pages the kernels' memory import allows (2 GiB). */
const MAX_PAGES = 32768;
/** Bytes 0..63 are the kernels' own scratch (the Adam tail); allocations start after. */
const RESERVED = 64;
const ALIGN = 64;

// The deferred queue. Every operation of a relaxation step works row by row (one row is
// one example): products with a weight matrix, the Euler step with its dt vector and the
// element-wise passes. Such operations are queued instead of run, and the queue is run at
// the next operation that needs whole matrices (a read-back, a batch reduction, an
// optimizer step) in blocks of rows: all queued operations on rows 0..r, then on the next
// block, and so on. A block's states, drives and activations stay in the cache across a
// whole phase instead of streaming through memory at every pass. Results are bit-identical
// to running the operations one by one.
/** Target bytes of the rows of one block, over all matrices the queue touches row-wise. */
const BLOCK_BYTES = 160 * 1024;
/** Whole matrices read by queued products above this size turn blocking off (they would be re-read per block). */
const BIG_OPERAND_BYTES = 512 * 1024;

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

/** Whether every value stays finite when rounded to float32 (the kernels' scalar type). */
function f32Finite(...values: number[]): boolean {
  for (const v of values) if (!Number.isFinite(Math.fround(v))) return false;
  return true;
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
  /** Epoch stamps of the deferred queue: written by, read row-wise by, read whole by a queued op. */
  qWrite = 0;
  qRow = 0;
  qGlobal = 0;
  /** 1: the output of a deferred outer product; 2: its left factor (see #outer). */
  pend = 0;
  constructor(rows: number, cols: number, backend: string, ptr: number, bytes: number) {
    this.rows = rows;
    this.cols = cols;
    this.backend = backend;
    this.ptr = ptr;
    this.bytes = bytes;
    this.length = rows * cols;
  }
}

/**
 * A deferred outer product C = A^T S (+ beta C) with A k x m and S (k x n) a private copy
 * of the right factor, already scaled. Parameter gradients arrive as two such products into
 * the same C with the same A (the input layer's x^T rho(s^beta) and x^T rho(s^0)), which
 * become one product with the difference: half the work of the largest matrix product of a
 * minibatch, and what the reference implementation writes by hand.
 */
interface OuterProduct {
  readonly a: WasmMatrix;
  readonly c: WasmMatrix;
  /** The right factor, to be multiplied by alpha. */
  readonly snap: number;
  readonly snapBytes: number;
  alpha: number;
  readonly beta: number;
}

/** Options of {@link createWasmBackend}. */
export interface WasmBackendOptions {
  /** Initial size of the linear memory in MiB (it grows as matrices are allocated; default 4). */
  readonly initialMiB?: number;
  /**
   * Threads that share the rows of every queued operation (default 1: this thread only).
   * More than 1 needs a shared linear memory (SharedArrayBuffer) and Node's worker_threads.
   */
  readonly workers?: number;
}

/** Worker threads started for a backend: the control block and how many. */
interface Threads {
  readonly ctrl: Int32Array;
  readonly count: number;
}

/** Starts the worker threads once the queue and control block are placed; returns their number. */
interface WorkerSetup {
  start(queuePtr: number, ctrlPtr: number): number;
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
  /** Per thread (0: this one), a scratch for compressed left factors: [offset, bytes]. */
  readonly #lists: [number, number][] = [];
  /** The queue: host memory, or with worker threads a region of the shared linear memory. */
  readonly #q: Float64Array;
  /** The largest inner dimension of a queued product (sizes the list scratch). */
  #qMaxK = 0;
  readonly #workers: Threads | null;
  #queued = 0;
  #qRows = 0;
  #epoch = 1;
  #rowBytes = 0;
  #bigOperand = false;
  /** Set when a round of the worker threads stalled (see #await). */
  #stalled = false;
  readonly #outer: OuterProduct[] = [];

  constructor(kernels: WasmKernels, memory: WasmMemory, workers: WorkerSetup | null) {
    this.#k = kernels;
    this.#memory = memory;
    this.#f32 = new Float32Array(memory.buffer);
    if (workers === null) {
      this.#q = new Float64Array(MAX_QUEUED * OP_SLOTS);
      this.#workers = null;
    } else {
      // The queue and a control block live in the shared memory, where the workers read them.
      const [queuePtr] = this.#alloc(MAX_QUEUED * OP_SLOTS * 8);
      const [ctrlPtr] = this.#alloc(CTRL_INTS * 4);
      this.#q = new Float64Array(memory.buffer, queuePtr, MAX_QUEUED * OP_SLOTS);
      const ctrl = new Int32Array(memory.buffer, ctrlPtr, CTRL_INTS);
      const threads = workers.start(queuePtr, ctrlPtr);
      this.#workers = { ctrl, count: threads };
    }
  }

  /** Thread `t`'s list scratch, grown to at least `bytes`. */
  #list(t: number, bytes: number): number {
    let entry = this.#lists[t];
    if (entry === undefined || entry[1] < bytes + 16) {
      if (entry !== undefined) this.#release(entry[0], entry[1]);
      entry = this.#alloc(bytes);
      this.#lists[t] = entry;
    }
    return entry[0];
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

  /**
   * Makes room to queue an operation on `rows`-row matrices that writes `w` row-wise and
   * reads `r1`, `r2` row-wise and `g` whole; runs the queue first where that order would
   * matter. Returns the slot of the new operation.
   */
  #enqueue(rows: number, w: WasmMatrix, r1: WasmMatrix | null, r2: WasmMatrix | null, g: WasmMatrix | null): number {
    if (this.#outer.length > 0 && (w.pend !== 0 || (r1 !== null && r1.pend & 1) || (r2 !== null && r2.pend & 1) || (g !== null && g.pend & 1))) {
      this.#runOuter();
    }
    const e = this.#epoch;
    if (
      this.#queued > 0 &&
      (rows !== this.#qRows || this.#queued >= MAX_QUEUED || w.qGlobal === e || (g !== null && g.qWrite === e))
    ) {
      this.#flushQueue();
    }
    const now = this.#epoch;
    this.#qRows = rows;
    if (w.qRow !== now) {
      w.qRow = now;
      this.#rowBytes += w.cols * 4;
    }
    w.qWrite = now;
    if (r1 !== null && r1.qRow !== now) {
      r1.qRow = now;
      this.#rowBytes += r1.cols * 4;
    }
    if (r2 !== null && r2.qRow !== now) {
      r2.qRow = now;
      this.#rowBytes += r2.cols * 4;
    }
    if (g !== null) {
      g.qGlobal = now;
      if (g.length * 4 > BIG_OPERAND_BYTES) this.#bigOperand = true;
    }
    w.version++;
    const o = this.#queued++ * OP_SLOTS;
    // Unused slots read 0 (the fusions below compare slots with matrix addresses).
    this.#q.fill(0, o + 1, o + OP_SLOTS);
    return o;
  }

  /**
   * Whether an operation in the queue slots [from, to) names one of the matrices at p1..p5
   * (NaN: none) among its arguments. The fusions below move work past such operations only
   * when they do not.
   */
  #names(from: number, to: number, p1: number, p2 = Number.NaN, p3 = Number.NaN, p4 = Number.NaN, p5 = Number.NaN): boolean {
    const q = this.#q;
    for (let y = from; y < to; y += OP_SLOTS) {
      for (let j = y + 2; j < y + OP_SLOTS; j++) {
        const v = q[j];
        if (v === p1 || v === p2 || v === p3 || v === p4 || v === p5) return true;
      }
    }
    return false;
  }

  /**
   * The OP_GRAD_EULER at slot `x` (state s, sums o): when o was last written by an OP_DRIVE
   * (the output layer's drive of a wide layer) and nothing in between names s, o, da, dt or
   * next, the gradient rule moves into the drive's pass and slot x goes. The same operations
   * in the same order per entry: bit-identical.
   */
  #fuseDrive(x: number): void {
    const q = this.#q;
    const s = q[x + 2] as number;
    const o = q[x + 3] as number;
    const da = q[x + 4] as number;
    const dt = q[x + 5] as number;
    const next = q[x + 6] as number;
    for (let g = x - OP_SLOTS; g >= 0 && g >= x - 16 * OP_SLOTS; g -= OP_SLOTS) {
      if (q[g] === OP_DRIVE && q[g + 8] === 0 && q[g + 4] === o) {
        // its inputs must not be what the gradient rule writes (o is its own output)
        if (this.#names(g, g + OP_SLOTS, s, da, next, dt)) return;
        q[g + 8] = s;
        q[g + 9] = da;
        q[g + 10] = dt;
        q[g + 11] = next;
        q[g + 12] = q[x + 7] as number;
        q[g + 13] = q[x + 8] as number;
        q[g + 14] = q[x + 9] as number;
        q.copyWithin(x, x + OP_SLOTS, this.#queued * OP_SLOTS);
        this.#queued -= 1;
        this.#fuseActivate(g);
        return;
      }
      if (this.#names(g, g + OP_SLOTS, s, o, da, dt, next)) return;
    }
  }

  /**
   * activate(hard-sigmoid, s, act) queued before the OP_DRIVE with the gradient rule on s at
   * slot `g`, with nothing in between naming s or act: act is written in the drive's pass
   * (from the s it reads anyway) and the activation's slot goes.
   */
  #fuseActivate(g: number): void {
    const q = this.#q;
    const s = q[g + 8] as number;
    for (let x = g - OP_SLOTS; x >= 0 && x >= g - 16 * OP_SLOTS; x -= OP_SLOTS) {
      if (q[x] === OP_ACTIVATE && q[x + 2] === 0 && q[x + 3] === 0 && q[x + 4] === s) {
        const act = q[x + 5] as number;
        if (act === s || this.#names(g, g + OP_SLOTS, act) || this.#names(x + OP_SLOTS, g, act, s)) return;
        q[g + 15] = act;
        q.copyWithin(x, x + OP_SLOTS, this.#queued * OP_SLOTS);
        this.#queued -= 1;
        return;
      }
    }
  }

  /** `product` of wasm-exec on this thread, with a list scratch large enough for A. */
  #product(a: number, b: number, bt: number, c: number, m: number, n: number, k: number, alpha: number, beta: number): void {
    product(this.#k, a, b, bt, c, m, n, k, alpha, beta, this.#list(0, listBytes(m, k)));
  }

  /** Runs everything deferred. */
  #flush(): void {
    this.#flushQueue();
    if (this.#outer.length > 0) this.#runOuter();
  }

  /**
   * `product` over the m rows of C, shared by the worker threads when there are any: one
   * queued operation, run at once. The queue must be empty.
   */
  #rowProduct(a: number, b: number, c: number, m: number, n: number, k: number, alpha: number, beta: number): void {
    if (!this.#shared(m)) {
      this.#product(a, b, 0, c, m, n, k, alpha, beta);
      return;
    }
    // Whether A is sparse enough for compressed rows is settled here, over all of A.
    let sparse = 0;
    if (k > SPARSE_K_MAX) sparse = this.#k.nonzeros(a, m * k) <= SPARSE_DENSITY_MAX * m * k ? 1 : 2;
    const q = this.#q;
    q[0] = OP_GEMM;
    q[1] = n;
    q[2] = a;
    q[3] = b;
    q[4] = c;
    q[5] = k;
    q[6] = alpha;
    q[7] = beta;
    q[8] = 0;
    q[9] = sparse;
    this.#runOne(m, k);
  }

  /** Whether an operation on `rows` rows is worth sharing with the worker threads. */
  #shared(rows: number): boolean {
    return this.#workers !== null && rows >= 8;
  }

  /**
   * Runs the one operation written in the queue's first slot over `rows` rows at once,
   * shared by the threads, each taking its share in one block. The queue must be empty.
   */
  #runOne(rows: number, k: number): void {
    this.#queued = 1;
    this.#qRows = rows;
    this.#qMaxK = k;
    this.#bigOperand = true;
    this.#flushQueue();
  }

  /**
   * Runs the deferred outer products. Operations queued after them are independent of them
   * (see #enqueue), so the queue is run first; each product then runs over the rows of its
   * C (a weight matrix), shared by the worker threads.
   */
  #runOuter(): void {
    this.#flushQueue();
    for (const op of this.#outer) {
      const { a, c } = op;
      const m = a.cols;
      const k = a.rows;
      const n = c.cols;
      const at = this.#scratch(a.length * 4);
      this.#k.transpose(a.ptr, at, k, m);
      this.#rowProduct(at, op.snap, c.ptr, m, n, k, op.alpha, op.beta);
      this.#release(op.snap, op.snapBytes);
      a.pend = 0;
      c.pend = 0;
    }
    this.#outer.length = 0;
  }

  /**
   * Runs the queued operations, block of rows by block of rows; with worker threads, each
   * thread takes a contiguous share of the rows (every queued operation is row-wise).
   */
  #flushQueue(): void {
    const count = this.#queued;
    if (count === 0) return;
    this.#markDead(count);
    const R = this.#qRows;
    const w = this.#workers;
    const threads = w !== null && this.#shared(R) ? w.count + 1 : 1;
    // With threads, about four blocks per thread, taken in turn (see runOps).
    const share = threads === 1 ? R : Math.max(4, Math.floor(R / threads / 4) & ~3);
    let block = share;
    if (!this.#bigOperand) block = Math.max(4, Math.min(share, Math.floor(BLOCK_BYTES / Math.max(4, this.#rowBytes)) & ~3));
    const need = listBytes(block, Math.max(1, this.#qMaxK));
    if (threads > 1 && w !== null) {
      if (this.#stalled) {
        throw new KernelError("HTS_BACKEND_UNAVAILABLE", `${this.name}: a worker thread stopped earlier; make a new backend`, {
          parameter: "workers",
          value: threads - 1,
          expected: "worker threads that run",
        });
      }
      const ctrl = w.ctrl;
      for (let t = 1; t < threads; t++) ctrl[CTRL_LISTS + t - 1] = this.#list(t, need);
      ctrl[CTRL_COUNT] = count;
      ctrl[CTRL_ROWS] = R;
      ctrl[CTRL_BLOCK] = block;
      ctrl[CTRL_NEXT] = 0;
      Atomics.store(ctrl, CTRL_RUNNING, threads - 1);
      Atomics.add(ctrl, CTRL_GENERATION, 1);
      Atomics.notify(ctrl, CTRL_GENERATION);
      runOps(this.#k, this.#q, count, R, block, this.#list(0, need), ctrl);
      this.#await(ctrl, threads - 1);
      if (Atomics.load(ctrl, CTRL_FAILED) !== 0) {
        throw new KernelError("HTS_BACKEND_UNAVAILABLE", `${this.name}: a worker thread failed while running its rows`, {
          parameter: "workers",
          value: threads - 1,
          expected: "workers that run",
        });
      }
    } else {
      runOps(this.#k, this.#q, count, R, block, this.#list(0, need));
    }
    this.#queued = 0;
    this.#qMaxK = 0;
    this.#epoch++;
    this.#rowBytes = 0;
    this.#bigOperand = false;
  }

  /**
   * For each fused pass with the gradient rule (OP_DRIVE), whether its C and its da are
   * overwritten by a later fused pass of the queue before any operation names them: then
   * their stores can be left out (slot DRIVE_DEAD). In a phase, every step's drive and da
   * are overwritten by the next step's; the last step's are kept.
   */
  #markDead(count: number): void {
    const q = this.#q;
    const end = count * OP_SLOTS;
    for (let o = 0; o < end; o += OP_SLOTS) {
      if (q[o] !== OP_DRIVE || q[o + 8] === 0) continue;
      q[o + DRIVE_DEAD] = (this.#overwritten(o, 4, end) ? 1 : 0) | (this.#overwritten(o, 9, end) ? 2 : 0);
    }
  }

  /** Whether the matrix in slot `slot` of the OP_DRIVE at `o` is next named by an OP_DRIVE that writes it there and reads it nowhere. */
  #overwritten(o: number, slot: number, end: number): boolean {
    const q = this.#q;
    const ptr = q[o + slot];
    for (let p = o + OP_SLOTS; p < end; p += OP_SLOTS) {
      if (!this.#names(p, p + OP_SLOTS, ptr)) continue;
      if (q[p] !== OP_DRIVE || q[p + 8] === 0 || q[p + slot] !== ptr) return false;
      for (let j = 2; j < OP_SLOTS; j++) if (j !== slot && q[p + j] === ptr) return false;
      return true;
    }
    return false;
  }

  /**
   * Waits until the worker threads have finished the round: polls for a while, then sleeps
   * in slices. A round in which no block is taken and no thread finishes for STALL_MS (a
   * thread that died, say) is an error, and the backend refuses further work.
   */
  #await(ctrl: Int32Array, workers: number): void {
    const start = performance.now();
    let mark = -1;
    let since = start;
    for (let left = Atomics.load(ctrl, CTRL_RUNNING); left !== 0; left = Atomics.load(ctrl, CTRL_RUNNING)) {
      const now = performance.now();
      if (now - start < SPIN_MS) continue;
      const progress = Atomics.load(ctrl, CTRL_NEXT) * (workers + 1) + left;
      if (progress !== mark) {
        mark = progress;
        since = now;
      } else if (now - since > STALL_MS) {
        this.#stalled = true;
        throw new KernelError("HTS_BACKEND_UNAVAILABLE", `${this.name}: a worker thread made no progress for ${STALL_MS / 1000} s (it may have stopped); this backend cannot be used any more`, {
          parameter: "workers",
          value: workers,
          expected: "worker threads that run",
        });
      }
      Atomics.wait(ctrl, CTRL_RUNNING, left, WAIT_SLICE_MS);
    }
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
    this.#flush();
    this.#f32.set(values, w.ptr >> 2);
    w.version++;
  }

  read(m: Matrix): FloatArray {
    this.#flush();
    const w = m as WasmMatrix;
    return this.#f32.slice(w.ptr >> 2, (w.ptr >> 2) + w.length);
  }

  dispose(m: Matrix): void {
    const w = m as WasmMatrix;
    if (w.disposed) return;
    this.#flush();
    w.disposed = true;
    this.#release(w.ptr, w.bytes);
    if (w.tBytes > 0) this.#release(w.tPtr, w.tBytes);
    w.tBytes = 0;
    w.tVersion = -1;
  }

  copy(src: Matrix, dst: Matrix): void {
    const s = src as WasmMatrix;
    const d = dst as WasmMatrix;
    const o = this.#enqueue(d.rows, d, s, null, null);
    const q = this.#q;
    q[o] = OP_COPY;
    q[o + 1] = d.cols;
    q[o + 2] = s.ptr;
    q[o + 3] = d.ptr;
  }

  fill(m: Matrix, value: number): void {
    const w = m as WasmMatrix;
    const o = this.#enqueue(w.rows, w, null, null, null);
    const q = this.#q;
    q[o] = OP_FILL;
    q[o + 1] = w.cols;
    q[o + 2] = w.ptr;
    q[o + 3] = value;
  }

  /** b^T in memory, recomputed only when b changed since the last time. */
  #transposed(b: WasmMatrix): number {
    if (b.pend & 1) this.#runOuter();
    if (b.tVersion !== b.version) {
      if (b.qWrite === this.#epoch) this.#flushQueue();
      if (b.tBytes === 0) [b.tPtr, b.tBytes] = this.#alloc(b.length * 4);
      this.#k.transpose(b.ptr, b.tPtr, b.rows, b.cols);
      b.tVersion = b.version;
    }
    return b.tPtr;
  }

  gemm(a: Matrix, b: Matrix, out: Matrix, options: GemmOptions = {}): void {
    refuseGemmAlias(this.name, a, b, out);
    const { transA = false, transB = false, alpha = 1, beta = 0 } = options;
    const A = a as WasmMatrix;
    const B = b as WasmMatrix;
    const C = out as WasmMatrix;
    const m = C.rows;
    const n = C.cols;
    const k = transA ? A.rows : A.cols;
    // Kernels: a dot product per entry for few output columns (it needs B^T: for a plain
    // product it comes from a cache kept per matrix, refreshed when the matrix changes, as
    // weights do once per minibatch while they are used at every step); one pass over a row
    // of B per nonzero entry of A for a short inner dimension; otherwise panels of columns,
    // swept over the rows (for B^T from the same cache). a^T (the batch outer products) is
    // packed into scratch memory.
    let bPtr = 0;
    let btPtr = 0;
    if (transB) {
      btPtr = B.ptr;
      if (n > DOT_N_MAX || k <= SPARSE_K_MAX) bPtr = this.#transposed(B);
    } else {
      bPtr = B.ptr;
      if (n <= DOT_N_MAX && k > SPARSE_K_MAX) btPtr = this.#transposed(B);
    }
    if (!transA) {
      // Row-wise in A and C, B read whole: queued.
      let o = this.#enqueue(m, C, A, null, B);
      const q = this.#q;
      if (k > this.#qMaxK) this.#qMaxK = k;
      // The output layer's drive of a wide layer (short inner dimension, beta 1) is an
      // OP_DRIVE, which the gradient rule and the activation of that layer may join later
      // (see #fuseDrive). A copy(C0, C) queued just before is folded in: the sums start from
      // C0, one pass over C fewer.
      const drive = k <= SPARSE_K_MAX && bPtr !== 0 && beta === 1;
      let c0 = 0;
      const p = o - OP_SLOTS;
      if (drive && p >= 0 && q[p] === OP_COPY && q[p + 3] === C.ptr && q[p + 1] === n && q[p + 2] !== C.ptr && A.ptr !== C.ptr) {
        c0 = q[p + 2] as number;
        o = p;
        q.fill(0, p + 1, p + OP_SLOTS);
        this.#queued -= 1;
      }
      q[o] = drive ? OP_DRIVE : OP_GEMM;
      q[o + 1] = n;
      q[o + 2] = A.ptr;
      q[o + 3] = bPtr;
      q[o + 4] = C.ptr;
      q[o + 5] = k;
      q[o + 6] = alpha;
      // OP_DRIVE: where the sums start (0: C); OP_GEMM: beta and B^T
      q[o + 7] = drive ? c0 : beta;
      if (!drive) q[o + 8] = btPtr;
      return;
    }
    this.#flushQueue();
    if (!transB) {
      // An outer product a^T b: deferred, so that a second one into the same C with the
      // same a (beta 1) merges with it (see OuterProduct).
      const prev = C.pend & 1 ? this.#outer.find((op) => op.c === C) : undefined;
      if (prev !== undefined && prev.a === A && beta === 1 && (B.pend & 1) === 0) {
        this.#k.axpby(prev.alpha, prev.snap, alpha, B.ptr, prev.snap, B.length);
        prev.alpha = 1;
        C.version++;
        return;
      }
      if (A.pend & 1 || B.pend & 1 || C.pend !== 0) this.#runOuter();
      const [snap, snapBytes] = this.#alloc(B.length * 4);
      this.#k.copy(B.ptr, snap, B.length);
      this.#outer.push({ a: A, c: C, snap, snapBytes, alpha, beta });
      A.pend |= 2;
      C.pend |= 1;
      C.version++;
      return;
    }
    if (A.pend & 1 || B.pend & 1 || C.pend !== 0) this.#runOuter();
    const aPtr = this.#scratch(A.length * 4);
    this.#k.transpose(A.ptr, aPtr, A.rows, A.cols);
    this.#product(aPtr, bPtr, btPtr, C.ptr, m, n, k, alpha, beta);
    C.version++;
  }

  broadcastRows(v: Matrix, out: Matrix): void {
    const V = v as WasmMatrix;
    const O = out as WasmMatrix;
    const o = this.#enqueue(O.rows, O, null, null, V);
    const q = this.#q;
    q[o] = OP_BROADCAST;
    q[o + 1] = O.cols;
    q[o + 2] = V.ptr;
    q[o + 3] = O.ptr;
  }

  axpby(alpha: number, a: Matrix, beta: number, b: Matrix, out: Matrix): void {
    const A = a as WasmMatrix;
    const B = b as WasmMatrix;
    const O = out as WasmMatrix;
    const o = this.#enqueue(O.rows, O, A, B, null);
    const q = this.#q;
    q[o] = OP_AXPBY;
    q[o + 1] = O.cols;
    q[o + 2] = alpha;
    q[o + 3] = A.ptr;
    q[o + 4] = beta;
    q[o + 5] = B.ptr;
    q[o + 6] = O.ptr;
    // The gradient rule's s - rho'(s) (.) n, queued just before as activateDerivative + mul?
    if (alpha === 1 && beta === -1 && B === O && A !== O && o >= 2 * OP_SLOTS) {
      const m = o - OP_SLOTS;
      const d = m - OP_SLOTS;
      const da = q[m + 2] as number;
      if (
        q[m] === OP_MUL &&
        q[m + 3] === O.ptr &&
        q[m + 4] === O.ptr &&
        q[d] === OP_ACTIVATE &&
        q[d + 2] === 0 &&
        q[d + 3] === 1 &&
        q[d + 4] === A.ptr &&
        q[d + 5] === da &&
        da !== O.ptr &&
        da !== A.ptr
      ) {
        q[d] = OP_GRAD_HSIG;
        q[d + 2] = A.ptr;
        q[d + 3] = O.ptr;
        q[d + 4] = da;
        this.#queued -= 2;
      }
    }
  }

  mul(a: Matrix, b: Matrix, out: Matrix): void {
    const A = a as WasmMatrix;
    const B = b as WasmMatrix;
    const O = out as WasmMatrix;
    const o = this.#enqueue(O.rows, O, A, B, null);
    const q = this.#q;
    q[o] = OP_MUL;
    q[o + 1] = O.cols;
    q[o + 2] = A.ptr;
    q[o + 3] = B.ptr;
    q[o + 4] = O.ptr;
  }

  #activation(kind: ActivationKind, deriv: number, x: Matrix, out: Matrix): void {
    const X = x as WasmMatrix;
    const O = out as WasmMatrix;
    const o = this.#enqueue(O.rows, O, X, null, null);
    const q = this.#q;
    q[o] = OP_ACTIVATE;
    q[o + 1] = O.cols;
    q[o + 2] = ACTIVATION_CODE[kind];
    q[o + 3] = deriv;
    q[o + 4] = X.ptr;
    q[o + 5] = O.ptr;
  }

  activate(kind: ActivationKind, x: Matrix, out: Matrix): void {
    this.#activation(kind, 0, x, out);
  }

  activateDerivative(kind: ActivationKind, x: Matrix, out: Matrix): void {
    this.#activation(kind, 1, x, out);
  }

  softmaxRows(x: Matrix, out: Matrix): void {
    const X = x as WasmMatrix;
    const O = out as WasmMatrix;
    const o = this.#enqueue(O.rows, O, X, null, null);
    const q = this.#q;
    q[o] = OP_SOFTMAX;
    q[o + 1] = O.cols;
    q[o + 2] = X.ptr;
    q[o + 3] = O.ptr;
  }

  eulerStep(s: Matrix, v: Matrix, dt: Matrix, out: Matrix, options: EulerStepOptions = {}): void {
    const S = s as WasmMatrix;
    const V = v as WasmMatrix;
    const D = dt as WasmMatrix;
    const O = out as WasmMatrix;
    const clip = options.clip;
    const o = this.#enqueue(O.rows, O, S, V, D);
    const q = this.#q;
    q[o] = OP_EULER;
    q[o + 1] = O.cols;
    q[o + 2] = S.ptr;
    q[o + 3] = V.ptr;
    q[o + 4] = D.ptr;
    q[o + 5] = O.ptr;
    q[o + 6] = options.scale ?? 1;
    q[o + 7] = clip ? clip[0] : Number.NEGATIVE_INFINITY;
    q[o + 8] = clip ? clip[1] : Number.POSITIVE_INFINITY;
    // The gradient rule: this layer's state gradient, queued a few operations before as a
    // fused OP_GRAD_HSIG on (S, V), with nothing in between touching S, V, its da or O?
    // Then both become one pass (moved to the earlier position, which changes nothing).
    if (S !== V && O !== S && O !== V) {
      for (let x = o - OP_SLOTS; x >= 0 && x >= o - 16 * OP_SLOTS; x -= OP_SLOTS) {
        if (q[x] === OP_GRAD_HSIG && q[x + 2] === S.ptr && q[x + 3] === V.ptr) {
          const da = q[x + 4] as number;
          if (da === O.ptr) break;
          if (!this.#names(x + OP_SLOTS, o, S.ptr, V.ptr, da, O.ptr)) {
            q[x] = OP_GRAD_EULER;
            q[x + 5] = D.ptr;
            q[x + 6] = O.ptr;
            q[x + 7] = options.scale ?? 1;
            q[x + 8] = clip ? clip[0] : Number.NEGATIVE_INFINITY;
            q[x + 9] = clip ? clip[1] : Number.POSITIVE_INFINITY;
            this.#queued -= 1;
            this.#fuseDrive(x);
            return;
          }
          break;
        }
        // Another operation on V: it is not the state gradient's last writer.
        if (this.#names(x, x + OP_SLOTS, V.ptr)) break;
      }
    }
    // The leaky rule's w = rho(w) - s queued just before as activate + axpby?
    if ((options.scale ?? 1) === 1 && !clip && S !== V && O !== S && O !== V && o >= 2 * OP_SLOTS) {
      const x = o - OP_SLOTS;
      const act = x - OP_SLOTS;
      const w = V.ptr;
      if (
        q[x] === OP_AXPBY &&
        q[x + 2] === 1 &&
        q[x + 3] === w &&
        q[x + 4] === -1 &&
        q[x + 5] === S.ptr &&
        q[x + 6] === w &&
        q[act] === OP_ACTIVATE &&
        q[act + 3] === 0 &&
        q[act + 4] === w &&
        q[act + 5] === w
      ) {
        q[act + 3] = w;
        q[act] = OP_LEAKY;
        q[act + 4] = S.ptr;
        q[act + 5] = D.ptr;
        q[act + 6] = O.ptr;
        this.#queued -= 2;
      }
    }
  }

  columnSums(x: Matrix, out: Matrix, alpha = 1, beta = 0): void {
    const O = out as WasmMatrix;
    this.#flushQueue();
    if ((x as WasmMatrix).pend & 1 || O.pend !== 0) this.#runOuter();
    this.#k.colsums((x as WasmMatrix).ptr, O.ptr, x.rows, x.cols, alpha, beta);
    O.version++;
  }

  sgdStep(param: Matrix, grad: Matrix, velocity: Matrix | null, o: SgdStepOptions): void {
    this.#flush();
    const P = param as WasmMatrix;
    const V = velocity as WasmMatrix | null;
    if (f32Finite(o.lr, o.momentum, o.weightDecay)) {
      if (this.#shared(P.rows)) {
        // element-wise: each thread updates its share of the rows
        const q = this.#q;
        q[0] = OP_SGD;
        q[1] = P.cols;
        q[2] = P.ptr;
        q[3] = (grad as WasmMatrix).ptr;
        q[4] = V ? V.ptr : 0;
        q[5] = o.lr;
        q[6] = o.momentum;
        q[7] = o.weightDecay;
        this.#runOne(P.rows, 0);
      } else this.#k.sgd(P.ptr, (grad as WasmMatrix).ptr, V ? V.ptr : 0, P.length, o.lr, o.momentum, o.weightDecay);
    } else {
      // Hyper-parameters beyond float32 (a learning rate of 1e308, say): the cpu-f32 loop,
      // in float64, so that 1e308 * 0 stays 0 instead of becoming Infinity * 0 = NaN.
      const f = this.#f32;
      const p0 = P.ptr >> 2;
      const g0 = (grad as WasmMatrix).ptr >> 2;
      const v0 = V ? V.ptr >> 2 : 0;
      for (let i = 0; i < P.length; i++) {
        let g = (f[g0 + i] as number) + o.weightDecay * (f[p0 + i] as number);
        if (V) {
          g = o.momentum * (f[v0 + i] as number) + g;
          f[v0 + i] = g;
        }
        f[p0 + i] = (f[p0 + i] as number) - o.lr * g;
      }
    }
    P.version++;
    if (V) V.version++;
  }

  adamStep(param: Matrix, grad: Matrix, m: Matrix, v: Matrix, o: AdamStepOptions): void {
    this.#flush();
    const P = param as WasmMatrix;
    const M = m as WasmMatrix;
    const V = v as WasmMatrix;
    const c1 = 1 - o.beta1 ** o.step;
    const c2 = 1 - o.beta2 ** o.step;
    if (f32Finite(o.lr, o.beta1, o.beta2, o.epsilon, o.weightDecay) && c1 !== 0 && c2 !== 0) {
      this.#k.adam(P.ptr, (grad as WasmMatrix).ptr, M.ptr, V.ptr, P.length, o.lr, o.beta1, o.beta2, o.epsilon, o.weightDecay, c1, c2);
    } else {
      // As in sgdStep: the cpu-f32 loop for hyper-parameters beyond float32.
      const f = this.#f32;
      const p0 = P.ptr >> 2;
      const g0 = (grad as WasmMatrix).ptr >> 2;
      const m0 = M.ptr >> 2;
      const v0 = V.ptr >> 2;
      for (let i = 0; i < P.length; i++) {
        const g = (f[g0 + i] as number) + o.weightDecay * (f[p0 + i] as number);
        const mi = o.beta1 * (f[m0 + i] as number) + (1 - o.beta1) * g;
        const vi = o.beta2 * (f[v0 + i] as number) + (1 - o.beta2) * g * g;
        f[m0 + i] = mi;
        f[v0 + i] = vi;
        f[p0 + i] = (f[p0 + i] as number) - (o.lr * (mi / c1)) / (Math.sqrt(vi / c2) + o.epsilon);
      }
    }
    P.version++;
    M.version++;
    V.version++;
  }

  sum(m: Matrix): number {
    this.#flush();
    const w = m as WasmMatrix;
    const f = this.#f32;
    let acc = 0;
    for (let i = w.ptr >> 2, e = i + w.length; i < e; i++) acc += f[i] as number;
    return acc;
  }

  dot(a: Matrix, b: Matrix): number {
    this.#flush();
    const A = a as WasmMatrix;
    const f = this.#f32;
    const d = ((b as WasmMatrix).ptr >> 2) - (A.ptr >> 2);
    let acc = 0;
    for (let i = A.ptr >> 2, e = i + A.length; i < e; i++) acc += (f[i] as number) * (f[i + d] as number);
    return acc;
  }

  maxAbsDiff(a: Matrix, b: Matrix): number {
    this.#flush();
    const A = a as WasmMatrix;
    return this.#k.maxabsdiff(A.ptr, (b as WasmMatrix).ptr, A.length);
  }

  findNonFinite(m: Matrix): number {
    this.#flush();
    const w = m as WasmMatrix;
    return this.#k.nonfinite(w.ptr, w.length);
  }

  argmaxRows(m: Matrix): Int32Array {
    this.#flush();
    return argmaxRowsOf(this.#f32, (m as WasmMatrix).ptr >> 2, m.rows, m.cols);
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
  const threads = options.workers ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new KernelError("HTS_INVALID_ARGUMENT", `createWasmBackend: workers must be an integer in [1, ${MAX_THREADS}], got ${String(threads)}`, {
      parameter: "workers",
      value: threads,
      expected: `an integer in [1, ${MAX_THREADS}]`,
    });
  }
  const wa = webAssembly() as WasmApi;
  const initial = Math.ceil((mib * 1048576) / WASM_PAGE);
  if (threads === 1) {
    const memory = new wa.Memory({ initial, maximum: MAX_PAGES });
    const instance = await wa.instantiate(await compileWasmKernels(), { env: { memory } });
    return new WasmBackend(instance.exports as unknown as WasmKernels, memory, null);
  }
  // Worker threads: the shared-memory module, one instance per thread on the same memory.
  let wt: typeof import("node:worker_threads");
  try {
    if (typeof SharedArrayBuffer !== "function") throw new Error("no SharedArrayBuffer");
    wt = await import("node:worker_threads");
  } catch (e) {
    throw new KernelError("HTS_BACKEND_UNAVAILABLE", `createWasmBackend: ${threads} workers need SharedArrayBuffer and Node's worker_threads (${(e as Error).message})`, {
      parameter: "workers",
      value: threads,
      expected: "1 here",
    });
  }
  const memory = new wa.Memory({ initial, maximum: MAX_PAGES, shared: true });
  const module = await compileWasmKernels(true);
  const instance = await wa.instantiate(module, { env: { memory } });
  const ready: Promise<void>[] = [];
  const started: import("node:worker_threads").Worker[] = [];
  const source = workerSource();
  const backend = new WasmBackend(instance.exports as unknown as WasmKernels, memory, {
    start(queuePtr, ctrlPtr) {
      for (let index = 0; index < threads - 1; index++) {
        const worker = new wt.Worker(source, { eval: true, workerData: { module, memory, ctrlPtr, queuePtr, index } });
        ready.push(
          new Promise((resolve, reject) => {
            worker.once("online", () => resolve());
            worker.once("error", reject);
          }),
        );
        started.push(worker);
      }
      return threads - 1;
    },
  });
  await Promise.all(ready);
  // Idle workers wait on the shared memory; they must not keep the process alive.
  for (const worker of started) worker.unref();
  return backend;
}
