import { gpuBackend, gpuUnavailable } from "./gpu-env.js";
import { runAll } from "./vitest-shim.js";

/** What the page reports to the Node-side test through `window.__htsResults`. */
export interface PageResults {
  done: boolean;
  renderer: string | null;
  backend: string | null;
  gpuUnavailable: string | null;
  passed: number;
  failed: number;
  skipped: number;
  failures: { name: string; error: string }[];
  names: string[];
  ms: number;
  error?: string;
}

const w = globalThis as unknown as { __htsResults?: PageResults; document: { getElementById(id: string): { textContent: string } | null } };

async function main(): Promise<void> {
  const start = performance.now();
  // The same conformance file the Node suite runs: its top-level await makes the backends.
  await import("../test/conformance.test.js");
  const outcomes = await runAll();
  const results: PageResults = {
    done: true,
    renderer: gpuBackend?.renderer ?? null,
    backend: gpuBackend?.name ?? null,
    gpuUnavailable,
    passed: outcomes.filter((o) => o.status === "passed").length,
    failed: outcomes.filter((o) => o.status === "failed").length,
    skipped: outcomes.filter((o) => o.status === "skipped").length,
    failures: outcomes.filter((o) => o.status === "failed").map((o) => ({ name: o.name, error: o.error ?? "" })),
    names: outcomes.filter((o) => o.status === "passed").map((o) => o.name),
    ms: performance.now() - start,
  };
  w.__htsResults = results;
  const log = w.document.getElementById("log");
  if (log) log.textContent = `${results.passed} passed, ${results.failed} failed, ${results.skipped} skipped\nrenderer: ${results.renderer}`;
}

main().catch((error: unknown) => {
  w.__htsResults = {
    done: true,
    renderer: null,
    backend: null,
    gpuUnavailable,
    passed: 0,
    failed: 1,
    skipped: 0,
    failures: [{ name: "page", error: String((error as Error)?.stack ?? error) }],
    names: [],
    ms: 0,
    error: String(error),
  };
});
