/**
 * The `wasm-f32` backend: float32 storage in one WebAssembly linear memory
 * (`wasm-memory.ts`), compute in hand-written WebAssembly SIMD128 kernels
 * (`src/wasm/kernels.wat`, loaded by `wasm-module.ts`). Row-wise operations are deferred in
 * a queue (`wasm-queue.ts`) run block of rows by block of rows (`wasm-exec.ts`), shared by
 * worker threads when there are any (`wasm-threads.ts`); the fused operations are in
 * `wasm-fused.ts`. This file holds the `Backend` methods, the deferred outer products and
 * `createWasmBackend`.
 */
import type {
  ActivationKind,
  AdamStepOptions,
  Backend,
  DriveGradientStep,
  EulerStepOptions,
  FloatArray,
  GemmOptions,
  GradientStepWithOptions,
  Matrix,
  SgdStepOptions,
} from "./backend.js";
import { driveStepReference, gradientStepReference, gradientTailReference, leakyStepReference } from "./backend.js";
import { KernelError, refuseGemmAlias } from "./errors.js";
import { argmaxRowsOf } from "./host-arrays.js";
import { adamBiasCorrections, adamStepArrays, sgdStepArrays } from "./optimizers.js";
import {
  DOT_N_MAX,
  OP_ACTIVATE,
  OP_AXPBY,
  OP_BROADCAST,
  OP_COPY,
  OP_EULER,
  OP_FILL,
  OP_GEMM,
  OP_MUL,
  OP_SGD,
  OP_SOFTMAX,
  SPARSE_K_MAX,
} from "./wasm-exec.js";
import { queueDrive, queueGradientStep, queueGradientTail, queueLeaky } from "./wasm-fused.js";
import { WasmHeap, WasmMatrix } from "./wasm-memory.js";
import { compileWasmKernels, f32Finite, MAX_PAGES, WASM_PAGE, type WasmApi, type WasmKernels, type WasmMemory, wasmUnavailableReason, webAssembly } from "./wasm-module.js";
import { OpQueue } from "./wasm-queue.js";
import { type WasmThreadPool, type WasmWorkerData, workerSource } from "./wasm-threads.js";

export { wasmUnavailableReason } from "./wasm-module.js";

/** Most threads a backend runs on (the control block's size). */
const MAX_THREADS = 16;

/** Whether the matrices of `parts` are all different (a handful: pairwise). */
function distinct(parts: readonly WasmMatrix[]): boolean {
  for (let i = 1; i < parts.length; i++) for (let j = 0; j < i; j++) if (parts[i] === parts[j]) return false;
  return true;
}

const ACTIVATION_CODE: Readonly<Record<ActivationKind, number>> = { "hard-sigmoid": 0, sigmoid: 1, tanh: 2 };


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
   * More than 1 needs a shared linear memory (SharedArrayBuffer) and a `threadPool` to
   * start them (`createWasmBackend` of `@hts/kernels/node` passes Node's worker_threads).
   */
  readonly workers?: number;
  /** Starts the worker threads when `workers` > 1 (see {@link WasmThreadPool}). */
  readonly threadPool?: WasmThreadPool;
}

/**
 * Float32 storage in one WebAssembly linear memory, compute in hand-written WebAssembly
 * SIMD128 kernels. Matrices are offsets into that memory, handed out by a size-class free
 * list; nothing is allocated per call once the scratch buffers have grown to the largest
 * shapes seen.
 */
class WasmBackend implements Backend {
  readonly name = "wasm-f32";
  readonly precision = "float32" as const;
  readonly #k: WasmKernels;
  readonly #heap: WasmHeap;
  readonly #queue: OpQueue;
  readonly #outer: OuterProduct[] = [];
  /** The matrices of a fused call, for the checks (reused: nothing allocated per call). */
  readonly #parts: WasmMatrix[] = [];

  /** `workers` worker threads (0: none) will share the queue; start them with {@link WasmBackend.workerData}. */
  constructor(kernels: WasmKernels, memory: WasmMemory, workers: number) {
    this.#k = kernels;
    this.#heap = new WasmHeap(memory, this.name);
    this.#queue = new OpQueue(kernels, this.#heap, workers, this.name);
  }

  /** What worker `index` needs to join (the queue and control block in the shared memory). */
  workerData(module: object, index: number): WasmWorkerData {
    return { module, memory: this.#heap.memory, ctrlPtr: this.#queue.ctrlPtr, queuePtr: this.#queue.queuePtr, index };
  }

  /** Queues an operation (see OpQueue.enqueue), running deferred outer products first where they are involved. */
  #enqueue(rows: number, w: WasmMatrix, r1: WasmMatrix | null, r2: WasmMatrix | null, g: WasmMatrix | null): number {
    if (this.#outer.length > 0 && (w.pend !== 0 || (r1 !== null && r1.pend & 1) || (r2 !== null && r2.pend & 1) || (g !== null && g.pend & 1))) {
      this.#runOuter();
    }
    return this.#queue.enqueue(rows, w, r1, r2, g);
  }

  /** Runs everything deferred. */
  #flush(): void {
    this.#queue.flush();
    if (this.#outer.length > 0) this.#runOuter();
  }

  /**
   * Runs the deferred outer products. Operations queued after them are independent of them
   * (see #enqueue), so the queue is run first; each product then runs over the rows of its
   * C (a weight matrix), shared by the worker threads.
   */
  #runOuter(): void {
    this.#queue.flush();
    for (const op of this.#outer) {
      const { a, c } = op;
      const m = a.cols;
      const k = a.rows;
      const n = c.cols;
      const at = this.#heap.scratch(a.length * 4);
      this.#k.transpose(a.ptr, at, k, m);
      this.#queue.rowProduct(at, op.snap, c.ptr, m, n, k, op.alpha, op.beta);
      this.#heap.release(op.snap, op.snapBytes);
      a.pend = 0;
      c.pend = 0;
    }
    this.#outer.length = 0;
  }

  matrix(rows: number, cols: number, values?: ArrayLike<number>): Matrix {
    if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1) {
      throw new KernelError(
        "HTS_INVALID_ARGUMENT",
        `${this.name}.matrix: shape must be two positive integers, got ${String(rows)} x ${String(cols)}`,
        { parameter: "shape", value: [rows, cols], expected: "positive integers" },
      );
    }
    const [ptr, size] = this.#heap.alloc(rows * cols * 4);
    const m = new WasmMatrix(rows, cols, this.name, ptr, size);
    this.#heap.f32.fill(0, ptr >> 2, (ptr + size) >> 2);
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
    this.#heap.f32.set(values, w.ptr >> 2);
    w.version++;
  }

  read(m: Matrix): FloatArray {
    this.#flush();
    const w = m as WasmMatrix;
    return this.#heap.f32.slice(w.ptr >> 2, (w.ptr >> 2) + w.length);
  }

  dispose(m: Matrix): void {
    const w = m as WasmMatrix;
    if (w.disposed) return;
    this.#flush();
    w.disposed = true;
    this.#heap.release(w.ptr, w.bytes);
    if (w.tBytes > 0) this.#heap.release(w.tPtr, w.tBytes);
    w.tBytes = 0;
    w.tVersion = -1;
  }

  copy(src: Matrix, dst: Matrix): void {
    const s = src as WasmMatrix;
    const d = dst as WasmMatrix;
    const o = this.#enqueue(d.rows, d, s, null, null);
    const q = this.#queue.q;
    q[o] = OP_COPY;
    q[o + 1] = d.cols;
    q[o + 2] = s.ptr;
    q[o + 3] = d.ptr;
  }

  fill(m: Matrix, value: number): void {
    const w = m as WasmMatrix;
    const o = this.#enqueue(w.rows, w, null, null, null);
    const q = this.#queue.q;
    q[o] = OP_FILL;
    q[o + 1] = w.cols;
    q[o + 2] = w.ptr;
    q[o + 3] = value;
  }

  /** b^T in memory, recomputed only when b changed since the last time. */
  #transposed(b: WasmMatrix): number {
    if (b.pend & 1) this.#runOuter();
    if (b.tVersion !== b.version) {
      if (b.qWrite === this.#queue.epoch) this.#queue.flush();
      if (b.tBytes === 0) [b.tPtr, b.tBytes] = this.#heap.alloc(b.length * 4);
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
      const o = this.#enqueue(m, C, A, null, B);
      const q = this.#queue.q;
      if (k > this.#queue.maxK) this.#queue.maxK = k;
      q[o] = OP_GEMM;
      q[o + 1] = n;
      q[o + 2] = A.ptr;
      q[o + 3] = bPtr;
      q[o + 4] = C.ptr;
      q[o + 5] = k;
      q[o + 6] = alpha;
      q[o + 7] = beta;
      q[o + 8] = btPtr;
      return;
    }
    this.#queue.flush();
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
      const [snap, snapBytes] = this.#heap.alloc(B.length * 4);
      this.#k.copy(B.ptr, snap, B.length);
      this.#outer.push({ a: A, c: C, snap, snapBytes, alpha, beta });
      A.pend |= 2;
      C.pend |= 1;
      C.version++;
      return;
    }
    if (A.pend & 1 || B.pend & 1 || C.pend !== 0) this.#runOuter();
    const aPtr = this.#heap.scratch(A.length * 4);
    this.#k.transpose(A.ptr, aPtr, A.rows, A.cols);
    this.#queue.product(aPtr, bPtr, btPtr, C.ptr, m, n, k, alpha, beta);
    C.version++;
  }

  broadcastRows(v: Matrix, out: Matrix): void {
    const V = v as WasmMatrix;
    const O = out as WasmMatrix;
    const o = this.#enqueue(O.rows, O, null, null, V);
    const q = this.#queue.q;
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
    const q = this.#queue.q;
    q[o] = OP_AXPBY;
    q[o + 1] = O.cols;
    q[o + 2] = alpha;
    q[o + 3] = A.ptr;
    q[o + 4] = beta;
    q[o + 5] = B.ptr;
    q[o + 6] = O.ptr;
  }

  mul(a: Matrix, b: Matrix, out: Matrix): void {
    const A = a as WasmMatrix;
    const B = b as WasmMatrix;
    const O = out as WasmMatrix;
    const o = this.#enqueue(O.rows, O, A, B, null);
    const q = this.#queue.q;
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
    const q = this.#queue.q;
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
    const q = this.#queue.q;
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
    const q = this.#queue.q;
    q[o] = OP_EULER;
    q[o + 1] = O.cols;
    q[o + 2] = S.ptr;
    q[o + 3] = V.ptr;
    q[o + 4] = D.ptr;
    q[o + 5] = O.ptr;
    q[o + 6] = options.scale ?? 1;
    q[o + 7] = clip ? clip[0] : Number.NEGATIVE_INFINITY;
    q[o + 8] = clip ? clip[1] : Number.POSITIVE_INFINITY;
  }

  gradientStep(kind: ActivationKind, s: Matrix, n: Matrix, da: Matrix, dt: Matrix, out: Matrix, options: GradientStepWithOptions): void {
    if (options.add !== undefined) {
      // the fused tail, the added term, then the Euler step (the composition, with this backend's tail)
      this.gradientTail(kind, s, n, da);
      this.axpby(1, n, options.add.alpha, options.add.m, n);
      this.eulerStep(s, n, dt, out, { scale: options.scale, clip: options.clip });
      return;
    }
    const S = s as WasmMatrix;
    const N = n as WasmMatrix;
    const A = da as WasmMatrix;
    const D = dt as WasmMatrix;
    const O = out as WasmMatrix;
    const parts = this.#parts;
    parts.length = 0;
    parts.push(S, N, A, D, O);
    if (kind !== "hard-sigmoid" || !distinct(parts)) {
      gradientStepReference(this, kind, s, n, da, dt, out, options);
      return;
    }
    if (this.#outer.length > 0) this.#settleOuter([S, D], [N, A, O]);
    queueGradientStep(this.#queue, S, N, A, D, O, options.scale, options.clip[0], options.clip[1]);
  }

  driveStep(a: Matrix, w: Matrix, base: Matrix, n: Matrix, step: DriveGradientStep | null): void {
    const A = a as WasmMatrix;
    const W = w as WasmMatrix;
    const C0 = base as WasmMatrix;
    const C = n as WasmMatrix;
    const k = A.cols;
    // The fused pass: a short inner dimension (one pass over a row of W^T per nonzero of a
    // row of A), the hard sigmoid, and matrices as the contract says; else the composition.
    const parts = this.#parts;
    parts.length = 0;
    parts.push(A, W, C);
    if (C0 !== C) parts.push(C0);
    if (step !== null) {
      parts.push(step.s as WasmMatrix, step.da as WasmMatrix, step.dt as WasmMatrix, step.out as WasmMatrix);
      if (step.act !== null) parts.push(step.act as WasmMatrix);
    }
    if (k > SPARSE_K_MAX || W.cols !== k || A.rows !== C.rows || W.rows !== C.cols || (step !== null && step.kind !== "hard-sigmoid") || !distinct(parts)) {
      driveStepReference(this, a, w, base, n, step);
      return;
    }
    // every matrix but C, da, out and act is only read
    if (this.#outer.length > 0 && parts.some((m) => m.pend !== 0)) this.#runOuter();
    const bPtr = this.#transposed(W);
    queueDrive(
      this.#queue,
      A,
      W,
      bPtr,
      C0,
      C,
      step === null
        ? null
        : {
            s: step.s as WasmMatrix,
            da: step.da as WasmMatrix,
            dt: step.dt as WasmMatrix,
            out: step.out as WasmMatrix,
            act: step.act as WasmMatrix | null,
            scale: step.scale,
            lo: step.clip[0],
            hi: step.clip[1],
          },
    );
  }

  /** Runs the deferred outer products first when one of them writes a matrix in `reads` or touches one in `writes`. */
  #settleOuter(reads: readonly WasmMatrix[], writes: readonly WasmMatrix[]): void {
    if (reads.some((m) => m.pend & 1) || writes.some((m) => m.pend !== 0)) this.#runOuter();
  }

  leakyStep(kind: ActivationKind, s: Matrix, u: Matrix, dt: Matrix, out: Matrix): void {
    const S = s as WasmMatrix;
    const U = u as WasmMatrix;
    const D = dt as WasmMatrix;
    const O = out as WasmMatrix;
    if (S === U || O === S || O === U || O === D) {
      leakyStepReference(this, kind, s, u, dt, out);
      return;
    }
    if (this.#outer.length > 0) this.#settleOuter([S, D], [O, U]);
    queueLeaky(this.#queue, ACTIVATION_CODE[kind], S, U, D, O);
  }

  gradientTail(kind: ActivationKind, s: Matrix, n: Matrix, da: Matrix): void {
    const S = s as WasmMatrix;
    const N = n as WasmMatrix;
    const A = da as WasmMatrix;
    if (kind !== "hard-sigmoid" || S === N || S === A || N === A) {
      gradientTailReference(this, kind, s, n, da);
      return;
    }
    if (this.#outer.length > 0) this.#settleOuter([S], [N, A]);
    queueGradientTail(this.#queue, S, N, A);
  }

  columnSums(x: Matrix, out: Matrix, alpha = 1, beta = 0): void {
    const O = out as WasmMatrix;
    this.#queue.flush();
    if ((x as WasmMatrix).pend & 1 || O.pend !== 0) this.#runOuter();
    this.#k.colsums((x as WasmMatrix).ptr, O.ptr, x.rows, x.cols, alpha, beta);
    O.version++;
  }

  sgdStep(param: Matrix, grad: Matrix, velocity: Matrix | null, o: SgdStepOptions): void {
    this.#flush();
    const P = param as WasmMatrix;
    const V = velocity as WasmMatrix | null;
    if (f32Finite(o.lr, o.momentum, o.weightDecay)) {
      if (this.#queue.shared(P.rows)) {
        // element-wise: each thread updates its share of the rows
        const q = this.#queue.q;
        q[0] = OP_SGD;
        q[1] = P.cols;
        q[2] = P.ptr;
        q[3] = (grad as WasmMatrix).ptr;
        q[4] = V ? V.ptr : 0;
        q[5] = o.lr;
        q[6] = o.momentum;
        q[7] = o.weightDecay;
        this.#queue.runOne(P.rows, 0);
      } else this.#k.sgd(P.ptr, (grad as WasmMatrix).ptr, V ? V.ptr : 0, P.length, o.lr, o.momentum, o.weightDecay);
    } else {
      // Hyper-parameters beyond float32 (a learning rate of 1e308, say): the cpu-f32 loop,
      // in float64, so that 1e308 * 0 stays 0 instead of becoming Infinity * 0 = NaN.
      sgdStepArrays(this.#view(P), this.#view(grad as WasmMatrix), V ? this.#view(V) : null, o);
    }
    P.version++;
    if (V) V.version++;
  }

  adamStep(param: Matrix, grad: Matrix, m: Matrix, v: Matrix, o: AdamStepOptions): void {
    this.#flush();
    const P = param as WasmMatrix;
    const M = m as WasmMatrix;
    const V = v as WasmMatrix;
    const [c1, c2] = adamBiasCorrections(o);
    if (f32Finite(o.lr, o.beta1, o.beta2, o.epsilon, o.weightDecay) && c1 !== 0 && c2 !== 0) {
      this.#k.adam(P.ptr, (grad as WasmMatrix).ptr, M.ptr, V.ptr, P.length, o.lr, o.beta1, o.beta2, o.epsilon, o.weightDecay, c1, c2);
    } else {
      // As in sgdStep: the cpu-f32 loop for hyper-parameters beyond float32.
      adamStepArrays(this.#view(P), this.#view(grad as WasmMatrix), this.#view(M), this.#view(V), o);
    }
    P.version++;
    M.version++;
    V.version++;
  }

  /** The entries of `m` as a float32 view of the memory (valid until the memory grows). */
  #view(m: WasmMatrix): Float32Array {
    return this.#heap.f32.subarray(m.ptr >> 2, (m.ptr >> 2) + m.length);
  }

  sum(m: Matrix): number {
    this.#flush();
    const w = m as WasmMatrix;
    const f = this.#heap.f32;
    let acc = 0;
    for (let i = w.ptr >> 2, e = i + w.length; i < e; i++) acc += f[i] as number;
    return acc;
  }

  dot(a: Matrix, b: Matrix): number {
    this.#flush();
    const A = a as WasmMatrix;
    const f = this.#heap.f32;
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

  heldMaxAbs(s: Matrix, g: Matrix, lo: number, hi: number): number {
    this.#flush();
    const S = s as WasmMatrix;
    return this.#k.heldmaxabs(S.ptr, (g as WasmMatrix).ptr, S.length, lo, hi);
  }

  findNonFinite(m: Matrix): number {
    this.#flush();
    const w = m as WasmMatrix;
    return this.#k.nonfinite(w.ptr, w.length);
  }

  argmaxRows(m: Matrix): Int32Array {
    this.#flush();
    return argmaxRowsOf(this.#heap.f32, (m as WasmMatrix).ptr >> 2, m.rows, m.cols);
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
    return new WasmBackend(instance.exports as unknown as WasmKernels, memory, 0);
  }
  // Worker threads: the shared-memory module, one instance per thread on the same memory.
  const pool = options.threadPool;
  if (pool === undefined || typeof SharedArrayBuffer !== "function") {
    const why = pool === undefined ? "no thread pool was given (in Node, createWasmBackend of @hts/kernels/node passes worker_threads)" : "no SharedArrayBuffer";
    throw new KernelError("HTS_BACKEND_UNAVAILABLE", `createWasmBackend: ${threads} workers need SharedArrayBuffer and a thread pool (${why})`, {
      parameter: "workers",
      value: threads,
      expected: "1 here",
    });
  }
  const memory = new wa.Memory({ initial, maximum: MAX_PAGES, shared: true });
  const module = await compileWasmKernels(true);
  const instance = await wa.instantiate(module, { env: { memory } });
  const backend = new WasmBackend(instance.exports as unknown as WasmKernels, memory, threads - 1);
  const data = Array.from({ length: threads - 1 }, (_, index) => backend.workerData(module, index));
  await pool.start(workerSource(), data);
  return backend;
}
