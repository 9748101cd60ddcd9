/**
 * Allocation for the `wasm-f32` backend: matrices are byte offsets into one WebAssembly
 * linear memory, handed out by a bump pointer with a free list per size class; the memory
 * grows (by at least half) when the top reaches its end, up to 2 GiB.
 */
import type { Matrix } from "./backend.js";
import { KernelError } from "./errors.js";
import { MAX_PAGES, WASM_PAGE, type WasmMemory } from "./wasm-module.js";

/** Bytes 0..63 are the kernels' own scratch (the Adam tail); allocations start after. */
const RESERVED = 64;
const ALIGN = 64;

/** A matrix in the backend's linear memory. */
export class WasmMatrix implements Matrix {
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
  /** 1: the output of a deferred outer product; 2: its left factor (see the backend's outer products). */
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

/** The allocator of one linear memory, with a float32 view that follows its growth. */
export class WasmHeap {
  readonly memory: WasmMemory;
  /** The whole memory as float32 (renewed when the memory grows). */
  f32: Float32Array;
  readonly #name: string;
  #top = RESERVED;
  readonly #free = new Map<number, number[]>();
  #scratchPtr = 0;
  #scratchBytes = 0;

  constructor(memory: WasmMemory, name: string) {
    this.memory = memory;
    this.#name = name;
    this.f32 = new Float32Array(memory.buffer);
  }

  /** Reserves `bytes` (rounded up, plus spare bytes for vector over-reads); returns [offset, size]. */
  alloc(bytes: number): [number, number] {
    const size = Math.ceil((bytes + 16) / ALIGN) * ALIGN;
    const list = this.#free.get(size);
    if (list !== undefined && list.length > 0) return [list.pop() as number, size];
    const ptr = this.#top;
    const end = ptr + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = have / WASM_PAGE;
      const need = Math.ceil(end / WASM_PAGE) - pages;
      const grow = Math.min(MAX_PAGES - pages, Math.max(need, Math.ceil(pages / 2)));
      if (grow < need) {
        throw new KernelError("HTS_INVALID_ARGUMENT", `${this.#name}: out of memory: ${end} bytes needed, the limit is ${MAX_PAGES * WASM_PAGE}`, {
          parameter: "shape",
          value: bytes,
          expected: "matrices that fit in 2 GiB together",
        });
      }
      this.memory.grow(grow);
      this.f32 = new Float32Array(this.memory.buffer);
    }
    this.#top = end;
    return [ptr, size];
  }

  /** Gives back what {@link WasmHeap.alloc} returned. */
  release(ptr: number, size: number): void {
    let list = this.#free.get(size);
    if (list === undefined) {
      list = [];
      this.#free.set(size, list);
    }
    list.push(ptr);
  }

  /** A scratch area of at least `bytes`, grown (reallocated) only when too small. */
  scratch(bytes: number): number {
    if (this.#scratchBytes < bytes + 16) {
      if (this.#scratchBytes > 0) this.release(this.#scratchPtr, this.#scratchBytes);
      [this.#scratchPtr, this.#scratchBytes] = this.alloc(bytes);
    }
    return this.#scratchPtr;
  }
}
