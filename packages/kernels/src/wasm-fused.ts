/**
 * The fused operations of the `wasm-f32` backend, in its queue (`wasm-queue.ts`): each is
 * one queued operation that runs in one pass over a block of rows what a fixed sequence of
 * plain operations does in several, with the same float32 operations in the same order per
 * entry, so the results are bit-identical to the sequence (the `Backend` method's reference
 * composition):
 *
 * - `leakyStep`: OP_LEAKY (every activation);
 * - `gradientTail`, `gradientStep` (hard sigmoid): OP_GRAD_HSIG, OP_GRAD_EULER;
 * - `driveStep` (hard sigmoid, a product with a short inner dimension: the output layer's
 *   drive of a wide layer): OP_DRIVE, the product, the gradient step and the activation of
 *   the layer in one pass over each row.
 *
 * They are called explicitly by `@hts/energy` and `@hts/ep`; nothing here looks for call
 * sequences in the queue. The one analysis of the queue is {@link markDead}: the stores of
 * an OP_DRIVE's sums and rho'(s) are left out when a later OP_DRIVE overwrites them before
 * anything reads them (every relaxation step but the last of a phase).
 */
import { DRIVE_DEAD, OP_DRIVE, OP_GRAD_EULER, OP_GRAD_HSIG, OP_LEAKY, OP_SLOTS } from "./wasm-exec.js";
import type { WasmMatrix } from "./wasm-memory.js";
import type { OpQueue } from "./wasm-queue.js";

/**
 * Whether an operation in the queue slots [from, to) names one of the matrices at p1..p5
 * (NaN: none) among its arguments.
 */
export function names(q: Float64Array, from: number, to: number, p1: number, p2 = Number.NaN, p3 = Number.NaN, p4 = Number.NaN, p5 = Number.NaN): boolean {
  for (let y = from; y < to; y += OP_SLOTS) {
    for (let j = y + 2; j < y + OP_SLOTS; j++) {
      const v = q[j];
      if (v === p1 || v === p2 || v === p3 || v === p4 || v === p5) return true;
    }
  }
  return false;
}

/** Queues `Backend.leakyStep`: u = rho(u) - s, out = s + dt (.) u (out, s, u distinct). */
export function queueLeaky(queue: OpQueue, code: number, s: WasmMatrix, u: WasmMatrix, dt: WasmMatrix, out: WasmMatrix): void {
  const o = queue.enqueueFused(out.rows, out, u, null, null, s, null, null, dt, null);
  const q = queue.q;
  q[o] = OP_LEAKY;
  q[o + 1] = out.cols;
  q[o + 2] = code;
  q[o + 3] = u.ptr;
  q[o + 4] = s.ptr;
  q[o + 5] = dt.ptr;
  q[o + 6] = out.ptr;
}

/** Queues `Backend.gradientTail` for the hard sigmoid: da = rho'(s), n = s - da (.) n (s, n, da distinct). */
export function queueGradientTail(queue: OpQueue, s: WasmMatrix, n: WasmMatrix, da: WasmMatrix): void {
  const o = queue.enqueueFused(n.rows, n, da, null, null, s, null, null, null, null);
  const q = queue.q;
  q[o] = OP_GRAD_HSIG;
  q[o + 1] = n.cols;
  q[o + 2] = s.ptr;
  q[o + 3] = n.ptr;
  q[o + 4] = da.ptr;
}

/** Queues `Backend.gradientStep` for the hard sigmoid (s, n, da, dt, out distinct). */
export function queueGradientStep(queue: OpQueue, s: WasmMatrix, n: WasmMatrix, da: WasmMatrix, dt: WasmMatrix, out: WasmMatrix, scale: number, lo: number, hi: number): void {
  const o = queue.enqueueFused(out.rows, out, n, da, null, s, null, null, dt, null);
  const q = queue.q;
  q[o] = OP_GRAD_EULER;
  q[o + 1] = out.cols;
  q[o + 2] = s.ptr;
  q[o + 3] = n.ptr;
  q[o + 4] = da.ptr;
  q[o + 5] = dt.ptr;
  q[o + 6] = out.ptr;
  q[o + 7] = scale;
  q[o + 8] = lo;
  q[o + 9] = hi;
}

/** The gradient step of an OP_DRIVE (see {@link queueDrive}). */
export interface DriveStepPtrs {
  readonly s: WasmMatrix;
  readonly da: WasmMatrix;
  readonly dt: WasmMatrix;
  readonly out: WasmMatrix;
  readonly act: WasmMatrix | null;
  readonly scale: number;
  readonly lo: number;
  readonly hi: number;
}

/**
 * Queues `Backend.driveStep` as an OP_DRIVE: C = C0 + A B (A: m x k with k <= SPARSE_K_MAX,
 * B: k x n at `bPtr`, the transpose of w), C0 = `base` (0: C itself), then the gradient step.
 * `w` is the matrix B is the transpose of (read whole).
 */
export function queueDrive(queue: OpQueue, a: WasmMatrix, w: WasmMatrix, bPtr: number, base: WasmMatrix, c: WasmMatrix, step: DriveStepPtrs | null): void {
  // base and s are read row-wise (a too, row r of A for row r of C)
  const o =
    step === null
      ? queue.enqueueFused(c.rows, c, null, null, null, a, base, null, w, null)
      : queue.enqueueFused(c.rows, c, step.da, step.out, step.act, a, base, step.s, w, step.dt);
  const k = a.cols;
  if (k > queue.maxK) queue.maxK = k;
  const q = queue.q;
  q[o] = OP_DRIVE;
  q[o + 1] = c.cols;
  q[o + 2] = a.ptr;
  q[o + 3] = bPtr;
  q[o + 4] = c.ptr;
  q[o + 5] = k;
  q[o + 6] = 1;
  q[o + 7] = base === c ? 0 : base.ptr;
  if (step !== null) {
    q[o + 8] = step.s.ptr;
    q[o + 9] = step.da.ptr;
    q[o + 10] = step.dt.ptr;
    q[o + 11] = step.out.ptr;
    q[o + 12] = step.scale;
    q[o + 13] = step.lo;
    q[o + 14] = step.hi;
    q[o + 15] = step.act === null ? 0 : step.act.ptr;
  }
}

/**
 * For each fused pass with the gradient rule (OP_DRIVE), whether its C and its da are
 * overwritten by a later fused pass of the queue before any operation names them: then
 * their stores can be left out (slot DRIVE_DEAD). In a phase, every step's drive and da
 * are overwritten by the next step's; the last step's are kept.
 */
export function markDead(q: Float64Array, count: number): void {
  const end = count * OP_SLOTS;
  for (let o = 0; o < end; o += OP_SLOTS) {
    if (q[o] !== OP_DRIVE || q[o + 8] === 0) continue;
    q[o + DRIVE_DEAD] = (overwritten(q, o, 4, end) ? 1 : 0) | (overwritten(q, o, 9, end) ? 2 : 0);
  }
}

/** Whether the matrix in slot `slot` of the OP_DRIVE at `o` is next named by an OP_DRIVE that writes it there and reads it nowhere. */
function overwritten(q: Float64Array, o: number, slot: number, end: number): boolean {
  const ptr = q[o + slot];
  for (let p = o + OP_SLOTS; p < end; p += OP_SLOTS) {
    if (!names(q, p, p + OP_SLOTS, ptr as number)) continue;
    if (q[p] !== OP_DRIVE || q[p + 8] === 0 || q[p + slot] !== ptr) return false;
    for (let j = 2; j < OP_SLOTS; j++) if (j !== slot && q[p + j] === ptr) return false;
    return true;
  }
  return false;
}
