/**
 * The part of the `wasm-f32` backend that runs queued operations: plain functions of the
 * kernels and the queue, with no other state, so that worker threads run the very same
 * code (their source is built from these functions' text, see {@link workerSource}).
 */

/** The kernels' exports used here (byte offsets into the linear memory). */
export interface ExecKernels {
  axpby(alpha: number, a: number, beta: number, b: number, o: number, n: number): void;
  mul(a: number, b: number, o: number, n: number): void;
  activate(kind: number, deriv: number, x: number, o: number, n: number): void;
  euler(s: number, v: number, dt: number, o: number, rows: number, cols: number, scale: number, lo: number, hi: number): void;
  softmax(x: number, o: number, rows: number, cols: number): void;
  sgd(p: number, g: number, v: number, n: number, lr: number, momentum: number, weightDecay: number): void;
  gemm(a: number, b: number, c: number, m: number, n: number, k: number, lda: number, ldb: number, ldc: number, alpha: number, beta: number): void;
  gemm_sk(a: number, b: number, c: number, c0: number, m: number, n: number, k: number, alpha: number, beta: number, list: number, s: number, da: number, dt: number, next: number, scale: number, lo: number, hi: number, act: number, dead: number): void;
  gemm_dot(a: number, bt: number, c: number, m: number, n: number, k: number, lda: number, ldb: number, ldc: number, alpha: number, beta: number): void;
  grad_hsig(s: number, o: number, da: number, n: number): void;
  leaky(kind: number, w: number, s: number, dt: number, next: number, rows: number, cols: number): void;
  grad_euler_hsig(s: number, o: number, da: number, dt: number, next: number, rows: number, cols: number, scale: number, lo: number, hi: number): void;
  copy(src: number, dst: number, n: number): void;
  fill(dst: number, n: number, value: number): void;
  broadcast(v: number, o: number, rows: number, cols: number): void;
  compress(a: number, m: number, k: number, lda: number, ldb: number, cnt: number, list: number): number;
  nonzeros(x: number, n: number): number;
  gemm_sparse(cnt: number, list: number, b: number, c: number, m: number, n: number, k: number, ldc: number, alpha: number, beta: number): void;
}

// Operation codes of the queue (one operation = OP_SLOTS float64 slots: code, columns, arguments).
export const OP_AXPBY = 0;
export const OP_MUL = 1;
export const OP_ACTIVATE = 2;
export const OP_EULER = 3;
export const OP_GEMM = 4;
export const OP_COPY = 5;
export const OP_FILL = 6;
export const OP_BROADCAST = 7;
export const OP_SOFTMAX = 8;
/** Fused: activateDerivative(hard-sigmoid, s, da); mul(da, o, o); axpby(1, s, -1, o, o). */
export const OP_GRAD_HSIG = 9;
/** Fused: activate(kind, w, w); axpby(1, w, -1, s, w); eulerStep(s, w, dt, next) (scale 1, no clip). */
export const OP_LEAKY = 10;
/** Fused: OP_GRAD_HSIG (s, o, da) and then eulerStep(s, o, dt, next, { scale, clip: [lo, hi] }). */
export const OP_GRAD_EULER = 11;
/** An SGD step on rows of a parameter: slots p, g, v (0: none), lr, momentum, weight decay. */
export const OP_SGD = 12;
/**
 * A product with a short inner dimension into C with beta 1 (slots a, b, c, k, alpha), the
 * output layer's drive of a wide layer, into which other passes over the same rows are
 * fused: it starts from C0 instead of C when slot 7 is not 0 (copy(C0, C) queued just
 * before); when slot 8 (s) is not 0, OP_GRAD_EULER on (s, C) follows (slots da, dt, next,
 * scale, lo, hi); when slot 15 is not 0, so does activate(hard-sigmoid, s) into it. One pass
 * over each row instead of up to five. Slot 16: see DRIVE_DEAD.
 */
export const OP_DRIVE = 13;
/** Slot 16 of an OP_DRIVE: its C (1) and da (2) are overwritten later in the queue before anything reads them (set when the queue runs). */
export const DRIVE_DEAD = 16;
export const OP_SLOTS = 17;
export const MAX_QUEUED = 4096;
/** Inner dimensions up to this skip each zero entry of A (output states). */
export const SPARSE_K_MAX = 16;
/** Products with at most this many output columns (and a longer inner dimension) use dot products of rows. */
export const DOT_N_MAX = 12;
/** Wide products whose left factor has at most this fraction of nonzeros use its compressed rows. */
export const SPARSE_DENSITY_MAX = 0.4;

/** Rows per kernel choice of a wide product (queued blocks of rows start at multiples of it). */
export const SPARSE_ROWS = 4;

/** Bytes of the scratch `product` needs to compress an m x k left factor. */
export function listBytes(m: number, k: number): number {
  return ((m * 4 + 63) & ~63) + m * k * 8 + 64;
}

/**
 * C (m x n, at c) = alpha A (m x k, at a) B + beta C, B at b (k x n) or given as its
 * transpose (n x k) at bt (0: absent). The kernel follows the shape: one pass over a row of
 * B per nonzero of A for a short inner dimension; dot products of rows for few output
 * columns; otherwise A's rows compressed to their nonzeros (in the scratch at `list`, of
 * listBytes(m, k) bytes) where A is sparse enough, else dense panels, chosen per group of
 * SPARSE_ROWS rows. `sparse` settles that last choice for all rows instead (1: compressed
 * rows, 2: dense panels), so that threads sharing the rows of one product all take the
 * kernel that one thread takes for all of them.
 */
export function product(
  K: ExecKernels,
  a: number,
  b: number,
  bt: number,
  c: number,
  m: number,
  n: number,
  k: number,
  alpha: number,
  beta: number,
  list: number,
  sparse = 0,
): void {
  if (k <= SPARSE_K_MAX && b !== 0) K.gemm_sk(a, b, c, 0, m, n, k, alpha, beta, list, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  else if ((n <= DOT_N_MAX && bt !== 0) || b === 0) K.gemm_dot(a, bt, c, m, n, k, k, k, n, alpha, beta);
  else {
    if (sparse !== 0) {
      wide(K, a, b, c, m, n, k, alpha, beta, list, sparse === 1);
      return;
    }
    // Decided per group of SPARSE_ROWS rows from the nonzeros counted first (a read-only
    // pass, so a dense A is not compressed in vain), runs of groups alike in one call: the
    // two kernels round differently, and blocks of rows start at multiples of SPARSE_ROWS,
    // so the kernel a row takes does not depend on how the rows are split into blocks and
    // threads.
    let r = 0;
    let runSparse = false;
    for (let g = 0; g < m; g += SPARSE_ROWS) {
      const rows = Math.min(SPARSE_ROWS, m - g);
      const isSparse = K.nonzeros(a + g * k * 4, rows * k) <= SPARSE_DENSITY_MAX * rows * k;
      if (g > 0 && isSparse !== runSparse) {
        wide(K, a + r * k * 4, b, c + r * n * 4, g - r, n, k, alpha, beta, list, runSparse);
        r = g;
      }
      runSparse = isSparse;
    }
    wide(K, a + r * k * 4, b, c + r * n * 4, m - r, n, k, alpha, beta, list, runSparse);
  }
}

/** A wide product on m rows: A's rows compressed to their nonzeros (`compressed`), or dense panels. */
export function wide(K: ExecKernels, a: number, b: number, c: number, m: number, n: number, k: number, alpha: number, beta: number, list: number, compressed: boolean): void {
  if (compressed) {
    const entries = list + ((m * 4 + 63) & ~63);
    K.compress(a, m, k, k, n, list, entries);
    K.gemm_sparse(list, entries, b, c, m, n, k, n, alpha, beta);
  } else K.gemm(a, b, c, m, n, k, k, n, n, alpha, beta);
}

/**
 * Runs the `count` queued operations of `q` on rows [0, to), `block` rows at a time: all
 * operations on one block, then the next. `list` is a scratch of listBytes(block, k) bytes
 * for the largest k of a queued product.
 */
export function runOps(K: ExecKernels, q: Float64Array, count: number, to: number, block: number, list: number, ctrl: Int32Array | null = null, tag = 0): void {
  // With `ctrl` (threads sharing the round), blocks are taken in turn from a shared counter,
  // so that a thread slowed down by anything else takes fewer of them. The counter carries
  // the round's tag (CTRL_NEXT): a thread that arrives after its round has moved on takes
  // nothing, and every block taken is counted done (CTRL_DONE) when it is.
  const blocks = Math.ceil(to / block);
  const take = (): number => {
    const c = ctrl as Int32Array;
    for (;;) {
      const v = Atomics.load(c, CTRL_NEXT);
      const b = v & NEXT_INDEX;
      if (v >>> NEXT_TAG_SHIFT !== tag || b >= blocks) return to;
      if (Atomics.compareExchange(c, CTRL_NEXT, v, v + 1) === v) return b * block;
    }
  };
  const done = (): void => {
    const c = ctrl as Int32Array;
    if (Atomics.add(c, CTRL_DONE, 1) + 1 === blocks) Atomics.notify(c, CTRL_DONE);
  };
  let r0 = ctrl === null ? 0 : take();
  while (r0 < to) {
    const rows = Math.min(block, to - r0);
    for (let i = 0, o = 0; i < count; i++, o += OP_SLOTS) {
      const cols = q[o + 1] as number;
      const off = r0 * cols * 4;
      const n = rows * cols;
      switch (q[o]) {
        case OP_AXPBY:
          K.axpby(q[o + 2] as number, (q[o + 3] as number) + off, q[o + 4] as number, (q[o + 5] as number) + off, (q[o + 6] as number) + off, n);
          break;
        case OP_MUL:
          K.mul((q[o + 2] as number) + off, (q[o + 3] as number) + off, (q[o + 4] as number) + off, n);
          break;
        case OP_ACTIVATE:
          K.activate(q[o + 2] as number, q[o + 3] as number, (q[o + 4] as number) + off, (q[o + 5] as number) + off, n);
          break;
        case OP_EULER:
          K.euler(
            (q[o + 2] as number) + off,
            (q[o + 3] as number) + off,
            q[o + 4] as number,
            (q[o + 5] as number) + off,
            rows,
            cols,
            q[o + 6] as number,
            q[o + 7] as number,
            q[o + 8] as number,
          );
          break;
        case OP_GEMM: {
          // cols is n (the columns of C); slot 5 holds k, the columns of A; slot 9 the kernel choice of `product`.
          const k = q[o + 5] as number;
          product(K, (q[o + 2] as number) + r0 * k * 4, q[o + 3] as number, q[o + 8] as number, (q[o + 4] as number) + off, rows, cols, k, q[o + 6] as number, q[o + 7] as number, list, q[o + 9] as number);
          break;
        }
        case OP_COPY:
          if (q[o + 2] !== q[o + 3]) K.copy((q[o + 2] as number) + off, (q[o + 3] as number) + off, n);
          break;
        case OP_FILL:
          K.fill((q[o + 2] as number) + off, n, q[o + 3] as number);
          break;
        case OP_BROADCAST:
          K.broadcast(q[o + 2] as number, (q[o + 3] as number) + off, rows, cols);
          break;
        case OP_GRAD_HSIG:
          K.grad_hsig((q[o + 2] as number) + off, (q[o + 3] as number) + off, (q[o + 4] as number) + off, n);
          break;
        case OP_LEAKY:
          K.leaky(q[o + 2] as number, (q[o + 3] as number) + off, (q[o + 4] as number) + off, q[o + 5] as number, (q[o + 6] as number) + off, rows, cols);
          break;
        case OP_GRAD_EULER:
          K.grad_euler_hsig(
            (q[o + 2] as number) + off,
            (q[o + 3] as number) + off,
            (q[o + 4] as number) + off,
            q[o + 5] as number,
            (q[o + 6] as number) + off,
            rows,
            cols,
            q[o + 7] as number,
            q[o + 8] as number,
            q[o + 9] as number,
          );
          break;
        case OP_DRIVE: {
          const k = q[o + 5] as number;
          const c0 = q[o + 7] as number;
          const s = q[o + 8] as number;
          const act = q[o + 15] as number;
          K.gemm_sk(
            (q[o + 2] as number) + r0 * k * 4,
            q[o + 3] as number,
            (q[o + 4] as number) + off,
            c0 === 0 ? 0 : c0 + off,
            rows,
            cols,
            k,
            q[o + 6] as number,
            1,
            list,
            s === 0 ? 0 : s + off,
            s === 0 ? 0 : (q[o + 9] as number) + off,
            q[o + 10] as number,
            s === 0 ? 0 : (q[o + 11] as number) + off,
            q[o + 12] as number,
            q[o + 13] as number,
            q[o + 14] as number,
            act === 0 ? 0 : act + off,
            q[o + DRIVE_DEAD] as number,
          );
          break;
        }
        case OP_SGD: {
          const v = q[o + 4] as number;
          K.sgd((q[o + 2] as number) + off, (q[o + 3] as number) + off, v === 0 ? 0 : v + off, n, q[o + 5] as number, q[o + 6] as number, q[o + 7] as number);
          break;
        }
        default:
          K.softmax((q[o + 2] as number) + off, (q[o + 3] as number) + off, rows, cols);
      }
    }
    if (ctrl === null) r0 += block;
    else {
      done();
      r0 = take();
    }
  }
}

/**
 * Layout of the control block in shared memory (Int32 slots): the generation (bumped to
 * start a round), the operation count (-1: stop), the rows of the round, the block size,
 * the number of blocks done, a failure flag, the counter of blocks taken (with the round's
 * tag), and per worker w its list scratch at CTRL_LISTS + w.
 */
export const CTRL_GENERATION = 0;
export const CTRL_COUNT = 1;
/** Rows of the round (threads take blocks of them in turn). */
export const CTRL_ROWS = 2;
export const CTRL_BLOCK = 3;
/** Blocks of the round done (the round ends when all are: a thread that never arrived holds nothing up). */
export const CTRL_DONE = 4;
/** Set by a worker whose share failed. */
export const CTRL_FAILED = 5;
/** The next block of rows to take: the round's tag above NEXT_TAG_SHIFT, the block's index below (taken by compare-and-swap). */
export const CTRL_NEXT = 6;
export const NEXT_TAG_SHIFT = 16;
/** The index bits of CTRL_NEXT: a round has at most this many blocks. */
export const NEXT_INDEX = 0xffff;
/** The tag of a round in CTRL_NEXT: its generation's low bits. */
export const NEXT_TAG = 0x7fff;
export const CTRL_LISTS = 8;
export const CTRL_INTS = 64;
/** Milliseconds a thread polls the control block before it sleeps in Atomics.wait. */
export const SPIN_MS = 2;
/**
 * Threads sleep in Atomics.wait in slices of this many milliseconds, so that the engine can
 * run its own interrupts (memory growth, code tier-up) between them.
 */
export const WAIT_SLICE_MS = 50;
/** A round in which no thread takes a block for this long has stalled: an error, not a hang. */
export const STALL_MS = 300_000;
