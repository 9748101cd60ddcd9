/**
 * The thread pool of the `wasm-f32` backend: worker threads that share the rows of every
 * queued operation, each with its own instance of the kernels on the one shared memory.
 * They meet in a control block in that memory (layout in `wasm-exec.ts`): the backend's
 * thread writes the round (operation count, rows, block size) and bumps the generation;
 * every thread, this one included, takes blocks of rows from a shared counter until none
 * is left. Starting threads is the platform's part ({@link WasmThreadPool}: Node's
 * worker_threads in `@hts/kernels/node`); this file only speaks the protocol.
 */
import { KernelError } from "./errors.js";
import {
  CTRL_BLOCK,
  CTRL_COUNT,
  CTRL_FAILED,
  CTRL_GENERATION,
  CTRL_INTS,
  CTRL_LISTS,
  CTRL_NEXT,
  CTRL_ROWS,
  CTRL_DONE,
  DOT_N_MAX,
  DRIVE_DEAD,
  MAX_QUEUED,
  NEXT_INDEX,
  NEXT_TAG,
  NEXT_TAG_SHIFT,
  OP_ACTIVATE,
  OP_AXPBY,
  OP_BROADCAST,
  OP_COPY,
  OP_DRIVE,
  OP_EULER,
  OP_FILL,
  OP_GEMM,
  OP_GRAD_EULER,
  OP_GRAD_HSIG,
  OP_LEAKY,
  OP_MUL,
  OP_SGD,
  OP_SLOTS,
  OP_SOFTMAX,
  product,
  runOps,
  SPARSE_DENSITY_MAX,
  SPARSE_K_MAX,
  SPARSE_ROWS,
  SPIN_MS,
  STALL_MS,
  WAIT_SLICE_MS,
  wide,
} from "./wasm-exec.js";
import type { WasmMemory } from "./wasm-module.js";

/** What one worker thread of the `wasm-f32` backend is given (as `workerData`). */
export interface WasmWorkerData {
  /** The compiled shared-memory kernels module. */
  readonly module: object;
  readonly memory: WasmMemory;
  /** Byte offsets of the control block and of the queue in the memory. */
  readonly ctrlPtr: number;
  readonly queuePtr: number;
  /** The worker's index (0-based; its list scratch is control slot CTRL_LISTS + index). */
  readonly index: number;
}

/**
 * Starts the worker threads of a multi-threaded `wasm-f32` backend: the platform's part
 * (`nodeWasmThreadPool` of `@hts/kernels/node` uses Node's worker_threads). Pass one to
 * `createWasmBackend({ workers, threadPool })`.
 */
export interface WasmThreadPool {
  /**
   * Starts one thread per entry of `data`, running `source` (a script that reads the
   * variable `workerData`, the entry, defined before it); resolves once all of them run.
   * Idle threads must not keep the process alive.
   */
  start(source: string, data: readonly WasmWorkerData[]): Promise<void>;
}

/** The worker threads of one backend, seen from the backend's thread: the control block and how many. */
export class WorkerCrew {
  readonly ctrl: Int32Array;
  /** Worker threads (this thread not counted). */
  readonly count: number;
  readonly #name: string;
  /** Set when a round stalled (see #await): the backend refuses further work. */
  #stalled = false;

  constructor(ctrl: Int32Array, count: number, name: string) {
    this.ctrl = ctrl;
    this.count = count;
    this.#name = name;
  }

  /**
   * Runs one round of `count` queued operations on `rows` rows in blocks of `block`, on
   * `threads` threads (this one and threads - 1 workers, whose list scratch offsets are
   * `lists[1..]`); `local` runs this thread's part. Throws when a worker failed or stalled.
   */
  round(count: number, rows: number, block: number, threads: number, lists: readonly number[], local: (ctrl: Int32Array, tag: number) => void): void {
    if (this.#stalled) {
      throw new KernelError("HTS_BACKEND_UNAVAILABLE", `${this.#name}: a worker thread stopped earlier; make a new backend`, {
        parameter: "workers",
        value: threads - 1,
        expected: "worker threads that run",
      });
    }
    const ctrl = this.ctrl;
    const blocks = Math.ceil(rows / block);
    if (blocks > NEXT_INDEX) throw new KernelError("HTS_INVALID_ARGUMENT", `${this.#name}: a round of ${blocks} blocks is more than ${NEXT_INDEX}`, { parameter: "block", value: block, expected: `at least ${Math.ceil(rows / NEXT_INDEX)} rows` });
    const generation = (Atomics.load(ctrl, CTRL_GENERATION) + 1) | 0;
    const tag = generation & NEXT_TAG;
    // The counter and the tally first: a thread still reading the previous round's settings
    // then finds another round's tag and takes nothing.
    Atomics.store(ctrl, CTRL_NEXT, tag << NEXT_TAG_SHIFT);
    Atomics.store(ctrl, CTRL_DONE, 0);
    for (let t = 1; t < threads; t++) ctrl[CTRL_LISTS + t - 1] = lists[t] as number;
    ctrl[CTRL_COUNT] = count;
    ctrl[CTRL_ROWS] = rows;
    ctrl[CTRL_BLOCK] = block;
    Atomics.store(ctrl, CTRL_GENERATION, generation);
    Atomics.notify(ctrl, CTRL_GENERATION);
    local(ctrl, tag);
    this.#await(threads - 1, blocks);
    if (Atomics.load(ctrl, CTRL_FAILED) !== 0) {
      throw new KernelError("HTS_BACKEND_UNAVAILABLE", `${this.#name}: a worker thread failed while running its rows`, {
        parameter: "workers",
        value: threads - 1,
        expected: "workers that run",
      });
    }
  }

  /**
   * Waits until every block of the round is done (this thread has taken its last, so only
   * blocks that workers took are left; a worker that has not arrived holds nothing up):
   * polls for a while, then sleeps in slices. A round in which no block is done for
   * STALL_MS (a thread that died, say) is an error, and the backend refuses further work;
   * so is a worker that failed.
   */
  #await(workers: number, blocks: number): void {
    const ctrl = this.ctrl;
    const start = performance.now();
    let mark = -1;
    let since = start;
    for (let done = Atomics.load(ctrl, CTRL_DONE); done < blocks && Atomics.load(ctrl, CTRL_FAILED) === 0; done = Atomics.load(ctrl, CTRL_DONE)) {
      const now = performance.now();
      if (now - start < SPIN_MS) continue;
      const progress = done;
      if (progress !== mark) {
        mark = progress;
        since = now;
      } else if (now - since > STALL_MS) {
        this.#stalled = true;
        throw new KernelError("HTS_BACKEND_UNAVAILABLE", `${this.#name}: a worker thread made no progress for ${STALL_MS / 1000} s (it may have stopped); this backend cannot be used any more`, {
          parameter: "workers",
          value: workers,
          expected: "worker threads that run",
        });
      }
      Atomics.wait(ctrl, CTRL_DONE, done, WAIT_SLICE_MS);
    }
  }
}

/**
 * The source of a worker thread: a classic script that expects a `workerData` variable (a
 * {@link WasmWorkerData}) to be defined before it; the platform's {@link WasmThreadPool}
 * provides it (in Node, from `worker_threads`).
 */
export function workerSource(): string {
  const constants = {
    OP_AXPBY,
    OP_MUL,
    OP_ACTIVATE,
    OP_EULER,
    OP_GEMM,
    OP_COPY,
    OP_FILL,
    OP_BROADCAST,
    OP_SOFTMAX,
    OP_GRAD_HSIG,
    OP_LEAKY,
    OP_GRAD_EULER,
    OP_SGD,
    OP_DRIVE,
    DRIVE_DEAD,
    OP_SLOTS,
    MAX_QUEUED,
    SPARSE_K_MAX,
    DOT_N_MAX,
    SPARSE_DENSITY_MAX,
    SPARSE_ROWS,
    CTRL_GENERATION,
    CTRL_COUNT,
    CTRL_ROWS,
    CTRL_NEXT,
    CTRL_BLOCK,
    CTRL_DONE,
    CTRL_FAILED,
    NEXT_TAG_SHIFT,
    NEXT_INDEX,
    NEXT_TAG,
    CTRL_LISTS,
    CTRL_INTS,
    SPIN_MS,
    WAIT_SLICE_MS,
  };
  return [
    ...Object.entries(constants).map(([name, value]) => `const ${name} = ${value};`),
    wide.toString(),
    product.toString(),
    runOps.toString(),
    `const { module, memory, ctrlPtr, queuePtr, index } = workerData;
const K = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctrl = new Int32Array(memory.buffer, ctrlPtr, CTRL_INTS);
const q = new Float64Array(memory.buffer, queuePtr, MAX_QUEUED * OP_SLOTS);
// The generation starts at 0: a round started before this thread got here is not missed.
let generation = 0;
for (;;) {
  // The next round usually follows within a millisecond (the next phase of the same
  // minibatch): poll for a while before sleeping, which saves the wake-up latency of a round.
  const until = performance.now() + SPIN_MS;
  while (Atomics.load(ctrl, CTRL_GENERATION) === generation && performance.now() < until);
  while (Atomics.load(ctrl, CTRL_GENERATION) === generation) Atomics.wait(ctrl, CTRL_GENERATION, generation, WAIT_SLICE_MS);
  // The round's settings, read until the generation is the same before and after (the
  // backend's thread writes them before it bumps the generation); a round that has moved on
  // meanwhile has another tag in the block counter, and nothing is taken from it.
  let count, rows, block, list;
  do {
    generation = Atomics.load(ctrl, CTRL_GENERATION);
    count = Atomics.load(ctrl, CTRL_COUNT);
    rows = Atomics.load(ctrl, CTRL_ROWS);
    block = Atomics.load(ctrl, CTRL_BLOCK);
    list = Atomics.load(ctrl, CTRL_LISTS + index);
  } while (Atomics.load(ctrl, CTRL_GENERATION) !== generation);
  if (count < 0) break;
  try {
    runOps(K, q, count, rows, block, list, ctrl, generation & NEXT_TAG);
  } catch (e) {
    Atomics.store(ctrl, CTRL_FAILED, 1);
    Atomics.notify(ctrl, CTRL_DONE);
  }
}`,
  ].join("\n");
}
