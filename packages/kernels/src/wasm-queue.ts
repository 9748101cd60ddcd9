/**
 * The deferred operation queue of the `wasm-f32` backend. Every operation of a relaxation
 * step works row by row (one row is one example): products with a weight matrix, the Euler
 * step with its dt vector and the element-wise passes. Such operations are queued instead
 * of run, and the queue is run at the next operation that needs whole matrices (a
 * read-back, a batch reduction, an optimizer step) in blocks of rows: all queued operations
 * on rows 0..r, then on the next block, and so on. A block's states, drives and activations
 * stay in the cache across a whole phase instead of streaming through memory at every
 * pass. Results are bit-identical to running the operations one by one. With worker
 * threads the blocks are shared among them (`wasm-threads.ts`); the operations themselves
 * run in `wasm-exec.ts`.
 */
import { CTRL_INTS, listBytes, MAX_QUEUED, OP_GEMM, OP_SLOTS, product, runOps, SPARSE_DENSITY_MAX, SPARSE_K_MAX } from "./wasm-exec.js";
import { markDead } from "./wasm-fused.js";
import type { WasmHeap, WasmMatrix } from "./wasm-memory.js";
import type { WasmKernels } from "./wasm-module.js";
import { WorkerCrew } from "./wasm-threads.js";

/** Target bytes of the rows of one block, over all matrices the queue touches row-wise. */
const BLOCK_BYTES = 160 * 1024;
/** Whole matrices read by queued products above this size turn blocking off (they would be re-read per block). */
const BIG_OPERAND_BYTES = 512 * 1024;

/** The queue of one backend: OP_SLOTS float64 slots per operation (layout in `wasm-exec.ts`). */
export class OpQueue {
  /** The slots: host memory, or with worker threads a region of the shared linear memory. */
  readonly q: Float64Array;
  /** Operations queued. */
  queued = 0;
  /** The rows of every queued operation. */
  rows = 0;
  /** The largest inner dimension of a queued product (sizes the list scratch). */
  maxK = 0;
  /** Bumped at every run: the stamps on matrices (qWrite, qRow, qGlobal) of older epochs are stale. */
  epoch = 1;
  /** Byte offset of the queue and of the control block in the memory (0 without threads). */
  readonly queuePtr: number;
  readonly ctrlPtr: number;
  readonly #k: WasmKernels;
  readonly #heap: WasmHeap;
  readonly #crew: WorkerCrew | null;
  #rowBytes = 0;
  #bigOperand = false;
  /** Per thread (0: this one), a scratch for compressed left factors: [offset, bytes]. */
  readonly #lists: [number, number][] = [];

  /** `workers` worker threads (0: none) read the queue in the shared memory of `heap`. */
  constructor(kernels: WasmKernels, heap: WasmHeap, workers: number, name: string) {
    this.#k = kernels;
    this.#heap = heap;
    if (workers === 0) {
      this.q = new Float64Array(MAX_QUEUED * OP_SLOTS);
      this.#crew = null;
      this.queuePtr = 0;
      this.ctrlPtr = 0;
    } else {
      [this.queuePtr] = heap.alloc(MAX_QUEUED * OP_SLOTS * 8);
      [this.ctrlPtr] = heap.alloc(CTRL_INTS * 4);
      this.q = new Float64Array(heap.memory.buffer, this.queuePtr, MAX_QUEUED * OP_SLOTS);
      this.#crew = new WorkerCrew(new Int32Array(heap.memory.buffer, this.ctrlPtr, CTRL_INTS), workers, name);
    }
  }

  /** Thread `t`'s list scratch, grown to at least `bytes`. */
  list(t: number, bytes: number): number {
    let entry = this.#lists[t];
    if (entry === undefined || entry[1] < bytes + 16) {
      if (entry !== undefined) this.#heap.release(entry[0], entry[1]);
      entry = this.#heap.alloc(bytes);
      this.#lists[t] = entry;
    }
    return entry[0];
  }

  /**
   * Makes room to queue an operation on `rows`-row matrices that writes `w` row-wise and
   * reads `r1`, `r2` row-wise and `g` whole; runs the queue first where that order would
   * matter. Returns the first slot of the new operation (its other slots zeroed).
   */
  enqueue(rows: number, w: WasmMatrix, r1: WasmMatrix | null, r2: WasmMatrix | null, g: WasmMatrix | null): number {
    const e = this.epoch;
    if (this.queued > 0 && (rows !== this.rows || this.queued >= MAX_QUEUED || w.qGlobal === e || (g !== null && g.qWrite === e))) {
      this.flush();
    }
    const now = this.epoch;
    this.rows = rows;
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
    const o = this.queued++ * OP_SLOTS;
    // Unused slots read 0 (the fusions compare slots with matrix addresses).
    this.q.fill(0, o + 1, o + OP_SLOTS);
    return o;
  }

  /**
   * {@link OpQueue.enqueue} for a fused operation that writes `w` (its output) and `w2`,
   * `w3`, `w4` row-wise, reads `r1`, `r2`, `r3` row-wise and `g1`, `g2` whole (null: none).
   * Separate parameters, not lists: nothing is allocated per call.
   */
  enqueueFused(
    rows: number,
    w: WasmMatrix,
    w2: WasmMatrix | null,
    w3: WasmMatrix | null,
    w4: WasmMatrix | null,
    r1: WasmMatrix | null,
    r2: WasmMatrix | null,
    r3: WasmMatrix | null,
    g1: WasmMatrix | null,
    g2: WasmMatrix | null,
  ): number {
    const e = this.epoch;
    if (
      this.queued > 0 &&
      (rows !== this.rows ||
        this.queued >= MAX_QUEUED ||
        w.qGlobal === e ||
        (w2 !== null && w2.qGlobal === e) ||
        (w3 !== null && w3.qGlobal === e) ||
        (w4 !== null && w4.qGlobal === e) ||
        (g1 !== null && g1.qWrite === e) ||
        (g2 !== null && g2.qWrite === e))
    ) {
      this.flush();
    }
    this.rows = rows;
    this.#writes(w);
    if (w2 !== null) this.#writes(w2);
    if (w3 !== null) this.#writes(w3);
    if (w4 !== null) this.#writes(w4);
    if (r1 !== null) this.#readsRows(r1);
    if (r2 !== null) this.#readsRows(r2);
    if (r3 !== null) this.#readsRows(r3);
    if (g1 !== null) this.#readsWhole(g1);
    if (g2 !== null) this.#readsWhole(g2);
    const o = this.queued++ * OP_SLOTS;
    this.q.fill(0, o + 1, o + OP_SLOTS);
    return o;
  }

  #writes(w: WasmMatrix): void {
    this.#readsRows(w);
    w.qWrite = this.epoch;
    w.version++;
  }

  #readsRows(r: WasmMatrix): void {
    if (r.qRow !== this.epoch) {
      r.qRow = this.epoch;
      this.#rowBytes += r.cols * 4;
    }
  }

  #readsWhole(g: WasmMatrix): void {
    g.qGlobal = this.epoch;
    if (g.length * 4 > BIG_OPERAND_BYTES) this.#bigOperand = true;
  }

  /** Whether an operation on `rows` rows is worth sharing with the worker threads. */
  shared(rows: number): boolean {
    return this.#crew !== null && rows >= 8;
  }

  /** `product` of wasm-exec on this thread, with a list scratch large enough for A. */
  product(a: number, b: number, bt: number, c: number, m: number, n: number, k: number, alpha: number, beta: number): void {
    product(this.#k, a, b, bt, c, m, n, k, alpha, beta, this.list(0, listBytes(m, k)));
  }

  /**
   * `product` over the m rows of C, shared by the worker threads when there are any: one
   * queued operation, run at once. The queue must be empty.
   */
  rowProduct(a: number, b: number, c: number, m: number, n: number, k: number, alpha: number, beta: number): void {
    // Whether A is sparse enough for compressed rows is settled here, over all of A, with
    // threads or without.
    let sparse = 0;
    if (k > SPARSE_K_MAX) sparse = this.#k.nonzeros(a, m * k) <= SPARSE_DENSITY_MAX * m * k ? 1 : 2;
    if (!this.shared(m)) {
      product(this.#k, a, b, 0, c, m, n, k, alpha, beta, this.list(0, listBytes(m, k)), sparse);
      return;
    }
    const q = this.q;
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
    this.runOne(m, k);
  }

  /**
   * Runs the one operation written in the queue's first slot over `rows` rows at once,
   * shared by the threads, each taking its share in one block. The queue must be empty.
   */
  runOne(rows: number, k: number): void {
    this.queued = 1;
    this.rows = rows;
    this.maxK = k;
    this.#bigOperand = true;
    this.flush();
  }

  /**
   * Runs the queued operations, block of rows by block of rows; with worker threads, the
   * threads take the blocks in turn (every queued operation is row-wise).
   */
  flush(): void {
    const count = this.queued;
    if (count === 0) return;
    markDead(this.q, count);
    const R = this.rows;
    const crew = this.#crew;
    const threads = crew !== null && this.shared(R) ? crew.count + 1 : 1;
    // With threads, about four blocks per thread, taken in turn (see runOps).
    const share = threads === 1 ? R : Math.max(4, Math.floor(R / threads / 4) & ~3);
    let block = share;
    if (!this.#bigOperand) block = Math.max(4, Math.min(share, Math.floor(BLOCK_BYTES / Math.max(4, this.#rowBytes)) & ~3));
    const need = listBytes(block, Math.max(1, this.maxK));
    if (threads > 1 && crew !== null) {
      const lists: number[] = [];
      for (let t = 0; t < threads; t++) lists.push(this.list(t, need));
      crew.round(count, R, block, threads, lists, (ctrl, tag) => runOps(this.#k, this.q, count, R, block, lists[0] as number, ctrl, tag));
    } else {
      runOps(this.#k, this.q, count, R, block, this.list(0, need));
    }
    this.queued = 0;
    this.maxK = 0;
    this.epoch++;
    this.#rowBytes = 0;
    this.#bigOperand = false;
  }
}
