/**
 * The kernels module of the `wasm-f32` backend: its bytes (`src/wasm/kernels.wat`, built
 * into `kernels-wasm.generated.ts`), whether this engine can run it, and its compilation
 * (once per process, with a plain or a shared memory import).
 */
import type { ExecKernels } from "./wasm-exec.js";
import { KERNELS_WASM, KERNELS_WASM_SHARED } from "./wasm/kernels-wasm.generated.js";

/** The exports of `src/wasm/kernels.wat` (pointers are byte offsets into the linear memory). */
export interface WasmKernels extends ExecKernels {
  colsums(x: number, o: number, rows: number, cols: number, alpha: number, beta: number): void;
  adam(p: number, g: number, m: number, v: number, n: number, lr: number, b1: number, b2: number, eps: number, wd: number, c1: number, c2: number): void;
  transpose(src: number, dst: number, rows: number, cols: number): void;
  nonfinite(x: number, n: number): number;
  nonzeros(x: number, n: number): number;
  maxabsdiff(a: number, b: number, n: number): number;
  heldmaxabs(s: number, g: number, n: number, lo: number, hi: number): number;
}

/** Bytes of one WebAssembly page. */
export const WASM_PAGE = 65536;
/** The most pages the kernels' memory import allows (2 GiB). */
export const MAX_PAGES = 32768;

/** A WebAssembly.Memory, as far as it is used here (typed locally: the package's lib is ES2023, without the DOM). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}

/** The part of the WebAssembly API used here. */
export interface WasmApi {
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
export function f32Finite(...values: number[]): boolean {
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
