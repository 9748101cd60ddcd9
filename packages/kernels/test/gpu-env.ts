import { it } from "vitest";
import type { GpuBackend } from "../src/gpu-backend.js";
import { gpuForTests, gpuRequired } from "../src/gpu-testing.js";
import { nodeWasmThreadPool } from "../src/node.js";
import type { WasmThreadPool } from "../src/wasm-threads.js";

/** The platform's thread pool for multi-threaded wasm-f32 (Node: worker_threads; the browser page has none). */
export const wasmThreadPool: WasmThreadPool | undefined = nodeWasmThreadPool;

/**
 * The GPU backend for a suite (Node: gpu.js on headless-gl, with a private Xvfb started
 * when DISPLAY is unset), or undefined. Without a GPU context the suite records why: a
 * skipped test outside CI, a failing one when the environment variable CI is set.
 * (The browser page swaps this file for browser/gpu-env.ts, which makes a WebGL2 backend.)
 */
export async function gpuBackendForSuite(label: string): Promise<GpuBackend | undefined> {
  const found = await gpuForTests();
  if (found.backend) return found.backend;
  const reason = found.reason;
  if (gpuRequired()) {
    it(`${label}: a GPU context can be made (required: CI is set)`, () => {
      throw new Error(`no GPU backend: ${reason}`);
    });
  } else {
    console.warn(`${label}: skipped, no GPU backend: ${reason}`);
    it.skip(`${label}: no GPU backend: ${reason}`, () => {});
  }
  return undefined;
}
