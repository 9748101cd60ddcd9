/**
 * The bench page (bench.html): samples per second of wasm-f32 on one thread, on Web Worker
 * threads, and of gpu-webgl2, in this browser. `globalThis.__htsBench.run(...)` runs one
 * repeat of each (scripts/bench.mjs alternates them with Node's figure); `?auto=1` runs
 * three repeats and prints them.
 */
import * as Comlink from "comlink";
import type { BenchSettings } from "./bench-core.js";
import type { BenchApi, BenchFigure, BenchKind } from "./bench-worker.js";

const worker = Comlink.wrap<BenchApi>(new Worker(new URL("./bench-worker.ts", import.meta.url), { type: "module", name: "hts-bench" }));
const out = document.getElementById("out") as HTMLElement;
const base = new URL("mnist", document.baseURI).href;
const threads = Math.max(2, Math.min(4, navigator.hardwareConcurrency || 2));

async function run(options: { seconds?: number; kinds?: BenchKind[]; settings?: Partial<BenchSettings> } = {}): Promise<BenchFigure[]> {
  await worker.load(base);
  const s: BenchSettings = { arch: [784, 500, 10], batch: 64, t1: 100, t2: 20, ...options.settings };
  const figures: BenchFigure[] = [];
  for (const kind of options.kinds ?? (["wasm-1", "wasm-threads", "gpu"] as const)) {
    const f = await worker.run(kind, threads, options.seconds ?? 1, s);
    figures.push(f);
    out.textContent += `${kind}: ${f.samplesPerSecond === null ? `unavailable (${f.reason})` : `${f.samplesPerSecond.toFixed(0)} samples/s on ${f.backend}, ${f.threads} thread(s); ${f.reason}`}\n`;
  }
  return figures;
}

(globalThis as { __htsBench?: unknown }).__htsBench = { run, isolated: globalThis.crossOriginIsolated === true, userAgent: navigator.userAgent };
if (new URLSearchParams(location.search).get("auto") === "1") {
  void (async () => {
    for (let r = 0; r < 3; r++) await run();
  })();
}
