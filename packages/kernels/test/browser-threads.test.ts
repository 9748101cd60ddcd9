import { describe, expect, it } from "vitest";
import { browserThreadsUnavailableReason, browserWasmThreadPool, createWasmBackend, KernelError } from "../src/index.js";

// The Web Worker thread pool outside a browser: Node has no global Worker, so it refuses to
// start, saying why, and a multi-threaded wasm-f32 backend built on it fails the same way.
// (In a browser it is tested by apps/playground's Chromium tests: the page trains on two
// Web Worker threads to the accuracy Node gives on one.)

describe("browserWasmThreadPool outside a browser", () => {
  it("says why it cannot start threads here", () => {
    expect(browserThreadsUnavailableReason()).toBe("no Web Workers in this context");
  });

  it("refuses to start, with HTS_BACKEND_UNAVAILABLE naming workers", async () => {
    const error = await createWasmBackend({ workers: 2, threadPool: browserWasmThreadPool }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KernelError);
    expect((error as KernelError).code).toBe("HTS_BACKEND_UNAVAILABLE");
    expect((error as KernelError).parameter).toBe("workers");
    expect((error as KernelError).message).toMatch(/^browserWasmThreadPool: no Web Workers in this context/);
  });
});
