/**
 * The bench page's worker: wasm-f32 on one thread and on Web Worker threads, and gpu.js on
 * WebGL2 when this context has one, each timed by bench-core.ts on the raw embedded digits.
 */
import { type Dataset, fetchEmbedded } from "@hts/datasets";
import { type Backend, browserThreadsUnavailableReason, browserWasmThreadPool, createBackend, createWasmBackend } from "@hts/kernels";
import * as Comlink from "comlink";
import { type BenchRunner, benchRunner, type BenchSettings } from "./bench-core.js";

export type BenchKind = "wasm-1" | "wasm-threads" | "gpu";

export interface BenchFigure {
  readonly kind: BenchKind;
  readonly backend: string | null;
  readonly threads: number;
  readonly reason: string;
  /** Samples per second of this repeat, or null when the backend is not available (reason says why). */
  readonly samplesPerSecond: number | null;
}

let data: Dataset | null = null;
const runners = new Map<BenchKind, { runner: BenchRunner | null; backend: Backend | null; reason: string; threads: number }>();

async function runnerFor(kind: BenchKind, threads: number, s: BenchSettings) {
  let r = runners.get(kind);
  if (r) return r;
  try {
    if (kind === "gpu") {
      const c = await createBackend({ prefer: "gpu" });
      r = { backend: c.backend, reason: c.reason, threads: 1, runner: null };
    } else if (kind === "wasm-1") {
      r = { backend: await createWasmBackend(), reason: "wasm-f32, one thread", threads: 1, runner: null };
    } else {
      const why = browserThreadsUnavailableReason();
      if (why !== null) throw new Error(why);
      r = { backend: await createWasmBackend({ workers: threads, threadPool: browserWasmThreadPool }), reason: `wasm-f32, ${threads} threads (Web Workers)`, threads, runner: null };
    }
    r.runner = benchRunner(r.backend as Backend, data as Dataset, s);
    // Warm-up, as tools/bench does: half the time of a repeat, at least two minibatches.
    r.runner.time(0.5, 2);
  } catch (e) {
    r = { backend: null, runner: null, reason: (e as Error).message, threads: 0 };
  }
  runners.set(kind, r);
  return r;
}

const api = {
  async load(base: string): Promise<number> {
    data ??= (await fetchEmbedded(base)).train;
    return data.count;
  },
  async run(kind: BenchKind, threads: number, seconds: number, s: BenchSettings): Promise<BenchFigure> {
    const r = await runnerFor(kind, threads, s);
    return { kind, backend: r.backend?.name ?? null, threads: r.threads, reason: r.reason, samplesPerSecond: r.runner ? r.runner.time(seconds, 1) : null };
  },
};

export type BenchApi = typeof api;
Comlink.expose(api);
