/**
 * The browser's {@link WasmThreadPool}: the `wasm-f32` worker threads as Web Workers.
 * Platform-neutral to import (it touches `Worker` and `Blob` only when called), so it lives
 * in the root entry. The page must be cross-origin isolated (served with
 * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`)
 * for SharedArrayBuffer, and the backend's own thread must be a worker too: the protocol
 * waits with `Atomics.wait`, which a page's main thread may not call.
 */
import { KernelError } from "./errors.js";
import type { WasmThreadPool, WasmWorkerData } from "./wasm-threads.js";

interface WorkerLike {
  postMessage(message: unknown): void;
  terminate(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: { message?: string }) => void) | null;
}
type WorkerCtor = new (url: string, options?: { name?: string }) => WorkerLike;
interface BrowserGlobals {
  Worker?: WorkerCtor;
  Blob?: new (parts: string[], options: { type: string }) => object;
  URL?: { createObjectURL(blob: object): string; revokeObjectURL(url: string): void };
  crossOriginIsolated?: boolean;
}

/**
 * Why {@link browserWasmThreadPool} cannot start threads here (no `Worker`, not cross-origin
 * isolated, no SharedArrayBuffer), or null when it can.
 */
export function browserThreadsUnavailableReason(): string | null {
  const g = globalThis as unknown as BrowserGlobals;
  if (typeof g.Worker !== "function" || typeof g.Blob !== "function" || g.URL === undefined) return "no Web Workers in this context";
  if (g.crossOriginIsolated !== true) return "the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)";
  if (typeof SharedArrayBuffer !== "function") return "no SharedArrayBuffer";
  return null;
}

/**
 * Starts the `wasm-f32` worker threads as Web Workers (a classic script from a Blob URL);
 * each gets its {@link WasmWorkerData} (the compiled module and the shared memory) by
 * `postMessage` and answers once before it enters its loop. Pass it to
 * `createWasmBackend({ workers, threadPool: browserWasmThreadPool })`. The threads end with
 * the worker that started them (terminate it to end them).
 */
export const browserWasmThreadPool: WasmThreadPool = {
  async start(source: string, data: readonly WasmWorkerData[]): Promise<void> {
    const why = browserThreadsUnavailableReason();
    const g = globalThis as unknown as Required<BrowserGlobals>;
    if (why !== null) {
      throw new KernelError("HTS_BACKEND_UNAVAILABLE", `browserWasmThreadPool: ${why}`, { parameter: "workers", value: data.length + 1, expected: "1 here" });
    }
    // The worker's first message is its data: define workerData, say so, then run the loop.
    const script = `"use strict";\nself.onmessage = (event) => {\n  self.onmessage = null;\n  const workerData = event.data;\n  self.postMessage("online");\n${source}\n};\n`;
    const url = g.URL.createObjectURL(new g.Blob([script], { type: "text/javascript" }));
    try {
      await Promise.all(
        data.map(
          (workerData) =>
            new Promise<void>((resolve, reject) => {
              const worker = new g.Worker(url, { name: `hts-wasm-${workerData.index}` });
              worker.onmessage = () => {
                worker.onmessage = null;
                resolve();
              };
              worker.onerror = (e) => reject(new KernelError("HTS_BACKEND_UNAVAILABLE", `browserWasmThreadPool: a worker failed to start (${e.message ?? "error"})`, { parameter: "workers", value: data.length + 1, expected: "workers that start" }));
              worker.postMessage(workerData);
            }),
        ),
      );
    } finally {
      g.URL.revokeObjectURL(url);
    }
  },
};
