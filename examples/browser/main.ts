// The page of test/browser-training.test.ts: fetches the ten digit files from the page's
// server (/mnist/src/digits/<c>.json), runs trainOneEpoch on each backend asked for in the
// query (?backends=cpu,wasm) and leaves the results in globalThis.__htsOneEpoch.
import { EMBEDDED_FILES } from "@hts/datasets";
import type { BackendPreference } from "@hts/kernels";
import { type OneEpochResult, trainOneEpoch } from "../src/one-epoch.js";

interface PageOutcome {
  done: boolean;
  results: OneEpochResult[];
  error: string | null;
  userAgent: string;
}

const outcome: PageOutcome = { done: false, results: [], error: null, userAgent: navigator.userAgent };
(globalThis as { __htsOneEpoch?: PageOutcome }).__htsOneEpoch = outcome;
const log = document.getElementById("log") as HTMLElement;

async function main(): Promise<void> {
  const files = await Promise.all(
    EMBEDDED_FILES.map(async (f) => {
      const res = await fetch(`/mnist/${f}`);
      if (!res.ok) throw new Error(`GET /mnist/${f}: HTTP ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    }),
  );
  const backends = (new URLSearchParams(location.search).get("backends") ?? "cpu").split(",") as BackendPreference[];
  for (const prefer of backends) {
    const r = await trainOneEpoch(files, prefer);
    outcome.results.push(r);
    log.textContent = outcome.results.map((x) => `${x.backend}: test accuracy ${(100 * x.testAccuracy).toFixed(2)}% weights ${x.weightsChecksum} in ${x.seconds.toFixed(1)} s`).join("\n");
  }
}

main()
  .catch((e: unknown) => {
    outcome.error = e instanceof Error ? `${e.message}\n${e.stack ?? ""}` : String(e);
    log.textContent = `error: ${outcome.error}`;
  })
  .finally(() => {
    outcome.done = true;
  });
