/**
 * `@hts/kernels/node`: everything of the root entry, plus what needs Node. Its
 * {@link createBackend}, {@link createGpuBackend} and {@link createWasmBackend} are the
 * root's with Node's platform filled in: the GPU through headless-gl (the optional native
 * module `gl`, {@link loadHeadlessGl}) and the `wasm-f32` worker threads through
 * `worker_threads` ({@link nodeWasmThreadPool}). The root entry imports no Node module, so
 * that it bundles for browsers.
 */
import { Worker } from "node:worker_threads";
import { type BackendChoice, type BackendPlatform, type BackendPreference, createBackend as createBackendOn } from "./create-backend.js";
import { createGpuBackend as createGpuBackendOn, type GpuBackend, type GpuBackendOptions } from "./gpu-backend.js";
import { loadHeadlessGl } from "./gpu-node.js";
import type { Backend } from "./backend.js";
import { createWasmBackend as createWasmBackendOn, type WasmBackendOptions } from "./wasm-backend.js";
import type { WasmThreadPool } from "./wasm-threads.js";

export * from "./index.js";
export { loadHeadlessGl };

/** Starts the `wasm-f32` worker threads as Node worker_threads (unref'd: idle ones do not keep the process alive). */
export const nodeWasmThreadPool: WasmThreadPool = {
  async start(source, data) {
    const script = `"use strict";\nconst { workerData } = require("node:worker_threads");\n${source}`;
    const started = data.map((workerData) => new Worker(script, { eval: true, workerData }));
    await Promise.all(
      started.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            worker.once("online", () => resolve());
            worker.once("error", reject);
          }),
      ),
    );
    for (const worker of started) worker.unref();
  },
};

/** Node's platform for {@link createBackend}: the GPU through headless-gl. */
export const NODE_PLATFORM: BackendPlatform = { loadGpu: loadHeadlessGl };

/** The root's `createBackend` with {@link NODE_PLATFORM} (unless `platform` is given). */
export function createBackend(options: { prefer?: BackendPreference; platform?: BackendPlatform } = {}): Promise<BackendChoice> {
  return createBackendOn({ ...options, platform: options.platform ?? NODE_PLATFORM });
}

/** The root's `createGpuBackend` with headless-gl ({@link loadHeadlessGl}) unless `loadGpu` is given. */
export function createGpuBackend(options: GpuBackendOptions = {}): Promise<GpuBackend> {
  return createGpuBackendOn({ loadGpu: loadHeadlessGl, ...options });
}

/** The root's `createWasmBackend` with {@link nodeWasmThreadPool} unless `threadPool` is given (needed for `workers` > 1). */
export function createWasmBackend(options: WasmBackendOptions = {}): Promise<Backend> {
  return createWasmBackendOn({ threadPool: nodeWasmThreadPool, ...options });
}
