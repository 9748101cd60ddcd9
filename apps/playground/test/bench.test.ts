import { describe, expect, it } from "vitest";
import { runBench, summarize } from "../scripts/bench.mjs";
import { chromiumPath, needsBrowser } from "./browser.js";

// The smoke version of `pnpm --filter @hts/playground bench`: one short repeat of each
// figure, Node's (tools/bench) and the browser's (wasm-f32 on one thread and on Web Worker
// threads, gpu.js on WebGL2, which is SwiftShader here, a CPU renderer). It checks that
// every figure is produced and names its backend; it asserts no speed.

describe("the bench, smoke version", () => {
  it("produces Node's figure and the browser's wasm-f32 (1 thread, threads) and gpu-webgl2 figures", async (ctx) => {
    needsBrowser(ctx);
    const result = await runBench({ repeats: 1, seconds: 0.2, chromium: chromiumPath, log: (l) => console.log(l) });
    const rows = summarize(result);
    for (const r of rows) console.log(`${r.figure}: ${r.median?.toFixed(0) ?? "n/a"} samples/s (${r.reason})`);
    const by = (figure: string) => rows.find((r) => r.figure === figure);
    expect(by("node wasm-f32, one thread (tools/bench)")?.median).toBeGreaterThan(0);
    const one = by("chromium wasm-1");
    expect(one?.backend).toBe("wasm-f32");
    expect(one?.median).toBeGreaterThan(0);
    const threads = by("chromium wasm-threads");
    expect(threads?.backend, threads?.reason).toBe("wasm-f32");
    expect(threads?.threads).toBeGreaterThan(1);
    expect(threads?.median).toBeGreaterThan(0);
    const gpu = by("chromium gpu");
    expect(gpu?.backend, gpu?.reason).toBe("gpu-webgl2");
    expect(gpu?.median).toBeGreaterThan(0);
  }, 600_000);
});
