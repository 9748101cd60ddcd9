import { createGpuBackend, type GpuBackend } from "../src/gpu-backend.js";
import { KernelError } from "../src/errors.js";
import type { WasmThreadPool } from "../src/wasm-threads.js";
import { it } from "./vitest-shim.js";

/** The page runs wasm-f32 on one thread (no thread pool; see test/gpu-env.ts). */
export const wasmThreadPool: WasmThreadPool | undefined = undefined;

/** Why the page has no GPU backend, if it has none (read by main.ts). */
export let gpuUnavailable: string | null = null;
/** The backend the page's suite runs on (read by main.ts for the renderer string). */
export let gpuBackend: GpuBackend | null = null;

/**
 * The browser's stand-in for test/gpu-env.ts: the gpu.js backend on WebGL2. Without it the
 * page records why, and the Node-side test (test/browser.test.ts) decides whether that is
 * a skip or, with CI set, a failure.
 */
export async function gpuBackendForSuite(label: string): Promise<GpuBackend | undefined> {
  try {
    gpuBackend = await createGpuBackend({ mode: "webgl2" });
    return gpuBackend;
  } catch (error) {
    if (!(error instanceof KernelError)) throw error;
    gpuUnavailable = error.message;
    it.skip(`${label}: no GPU backend: ${error.message}`, () => {});
    return undefined;
  }
}
