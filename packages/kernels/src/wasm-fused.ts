/**
 * The fused operations of the `wasm-f32` backend, in its queue (`wasm-queue.ts`): each
 * runs in one pass over a block of rows what a fixed sequence of plain operations does in
 * several, with the same float32 operations in the same order per entry, so the results
 * are bit-identical to the sequence.
 *
 * - `Backend.leakyStep` and `Backend.gradientTail` (hard sigmoid) are queued directly as
 *   OP_LEAKY and OP_GRAD_HSIG ({@link queueLeaky}, {@link queueGradientTail}).
 * - Two merges of queued operations remain, each checked against the operations queued in
 *   between (nothing there may name the matrices involved): the Euler step of a layer
 *   joins the OP_GRAD_HSIG of the same state and sums ({@link mergeGradientEuler}); that
 *   OP_GRAD_EULER and the state's activation join the output layer's drive of a wide layer,
 *   a product with a short inner dimension into the same sums ({@link fuseDrive}), whose
 *   stores of the sums and of rho'(s) are left out when the next step overwrites them
 *   ({@link markDead}).
 */
import { DRIVE_DEAD, OP_ACTIVATE, OP_COPY, OP_DRIVE, OP_GRAD_EULER, OP_GRAD_HSIG, OP_LEAKY, OP_SLOTS } from "./wasm-exec.js";
import type { WasmMatrix } from "./wasm-memory.js";
import type { OpQueue } from "./wasm-queue.js";

/** How far back (in operations) the merges look. */
const LOOK_BACK = 16;

/**
 * Whether an operation in the queue slots [from, to) names one of the matrices at p1..p5
 * (NaN: none) among its arguments. The merges move work past such operations only when
 * they do not.
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
  queue.beforeWrite(u);
  const o = queue.enqueue(out.rows, out, s, u, dt);
  queue.alsoWrites(u);
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
  queue.beforeWrite(da);
  const o = queue.enqueue(n.rows, n, s, null, null);
  queue.alsoWrites(da);
  const q = queue.q;
  q[o] = OP_GRAD_HSIG;
  q[o + 1] = n.cols;
  q[o + 2] = s.ptr;
  q[o + 3] = n.ptr;
  q[o + 4] = da.ptr;
}

/**
 * The Euler step just queued at slot `o`, `next = clip(s + scale dt (.) v)`: when the
 * OP_GRAD_HSIG that last wrote v (the state gradient of the same s) is a few operations
 * before, with nothing in between naming s, v, its da or next, both become one pass at the
 * earlier position (an OP_GRAD_EULER), which changes nothing. Returns whether it merged.
 */
export function mergeGradientEuler(queue: OpQueue, o: number, S: WasmMatrix, V: WasmMatrix, D: WasmMatrix, O: WasmMatrix, scale: number, lo: number, hi: number): boolean {
  if (S === V || O === S || O === V) return false;
  const q = queue.q;
  for (let x = o - OP_SLOTS; x >= 0 && x >= o - LOOK_BACK * OP_SLOTS; x -= OP_SLOTS) {
    if (q[x] === OP_GRAD_HSIG && q[x + 2] === S.ptr && q[x + 3] === V.ptr) {
      const da = q[x + 4] as number;
      if (da === O.ptr) return false;
      if (names(q, x + OP_SLOTS, o, S.ptr, V.ptr, da, O.ptr)) return false;
      q[x] = OP_GRAD_EULER;
      q[x + 5] = D.ptr;
      q[x + 6] = O.ptr;
      q[x + 7] = scale;
      q[x + 8] = lo;
      q[x + 9] = hi;
      queue.queued -= 1;
      fuseDrive(queue, x);
      return true;
    }
    // Another operation on V: it is not the state gradient's last writer.
    if (names(q, x, x + OP_SLOTS, V.ptr)) return false;
  }
  return false;
}

/**
 * An OP_DRIVE about to be queued at slot `o` into C: when a copy(C0, C) was queued just
 * before, it is folded in (the sums start from C0, one pass over C fewer). Returns the slot
 * where the OP_DRIVE goes and the C0 (0: none).
 */
export function foldCopy(queue: OpQueue, o: number, A: WasmMatrix, C: WasmMatrix, n: number): [number, number] {
  const q = queue.q;
  const p = o - OP_SLOTS;
  if (p >= 0 && q[p] === OP_COPY && q[p + 3] === C.ptr && q[p + 1] === n && q[p + 2] !== C.ptr && A.ptr !== C.ptr) {
    const c0 = q[p + 2] as number;
    q.fill(0, p + 1, p + OP_SLOTS);
    queue.queued -= 1;
    return [p, c0];
  }
  return [o, 0];
}

/**
 * The OP_GRAD_EULER at slot `x` (state s, sums o): when o was last written by an OP_DRIVE
 * (the output layer's drive of a wide layer) and nothing in between names s, o, da, dt or
 * next, the gradient rule moves into the drive's pass and slot x goes. The same operations
 * in the same order per entry: bit-identical.
 */
export function fuseDrive(queue: OpQueue, x: number): void {
  const q = queue.q;
  const s = q[x + 2] as number;
  const o = q[x + 3] as number;
  const da = q[x + 4] as number;
  const dt = q[x + 5] as number;
  const next = q[x + 6] as number;
  for (let g = x - OP_SLOTS; g >= 0 && g >= x - LOOK_BACK * OP_SLOTS; g -= OP_SLOTS) {
    if (q[g] === OP_DRIVE && q[g + 8] === 0 && q[g + 4] === o) {
      // its inputs must not be what the gradient rule writes (o is its own output)
      if (names(q, g, g + OP_SLOTS, s, da, next, dt)) return;
      q[g + 8] = s;
      q[g + 9] = da;
      q[g + 10] = dt;
      q[g + 11] = next;
      q[g + 12] = q[x + 7] as number;
      q[g + 13] = q[x + 8] as number;
      q[g + 14] = q[x + 9] as number;
      q.copyWithin(x, x + OP_SLOTS, queue.queued * OP_SLOTS);
      queue.queued -= 1;
      fuseActivate(queue, g);
      return;
    }
    if (names(q, g, g + OP_SLOTS, s, o, da, dt, next)) return;
  }
}

/**
 * activate(hard-sigmoid, s, act) queued before the OP_DRIVE with the gradient rule on s at
 * slot `g`, with nothing in between naming s or act: act is written in the drive's pass
 * (from the s it reads anyway) and the activation's slot goes.
 */
function fuseActivate(queue: OpQueue, g: number): void {
  const q = queue.q;
  const s = q[g + 8] as number;
  for (let x = g - OP_SLOTS; x >= 0 && x >= g - LOOK_BACK * OP_SLOTS; x -= OP_SLOTS) {
    if (q[x] === OP_ACTIVATE && q[x + 2] === 0 && q[x + 3] === 0 && q[x + 4] === s) {
      const act = q[x + 5] as number;
      if (act === s || names(q, g, g + OP_SLOTS, act) || names(q, x + OP_SLOTS, g, act, s)) return;
      q[g + 15] = act;
      q.copyWithin(x, x + OP_SLOTS, queue.queued * OP_SLOTS);
      queue.queued -= 1;
      return;
    }
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
