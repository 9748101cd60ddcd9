#!/usr/bin/env node
/**
 * The playground's bench: samples per second of wasm-f32 (one thread, and on Web Worker
 * threads) and of gpu-webgl2 in headless Chromium (Debian's, through playwright-core), next
 * to Node's wasm-f32 figure from tools/bench (`pnpm bench`), alternating repeat by repeat:
 * Node, then the browser, then Node again... Same configuration on both sides: 784-500-10,
 * batch 64, T1 100, T2 20, Hopfield / gradient rule / one-sided beta 0.5 / SGD 0.05 /
 * dt 0.3, raw embedded digits. Prints the medians (min-max) and the browser / Node ratios.
 *
 *   node scripts/bench.mjs [--repeats 5] [--seconds 1] [--json]
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const appDir = fileURLToPath(new URL("..", import.meta.url));
const benchTool = join(appDir, "..", "..", "tools", "bench", "dist", "bench.js");
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json" };

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One repeat of tools/bench in a fresh Node process (its own warm-up first): samples per second. */
function nodeRepeat(seconds, settings) {
  const out = execFileSync(process.execPath, [benchTool, "--arch", settings.arch.join(","), "--batch", String(settings.batch), "--t1", String(settings.t1), "--t2", String(settings.t2), "--backend", "wasm", "--repeats", "1", "--seconds", String(seconds), "--json"], { encoding: "utf8" });
  const row = JSON.parse(out.trim().split("\n").pop());
  return { backend: row.backend, samplesPerSecond: row.samplesPerSecond };
}

/**
 * Runs the bench: `repeats` alternating rounds of Node and the browser. Returns every figure.
 * @param {{ repeats?: number, seconds?: number, chromium?: string, settings?: { arch: number[], batch: number, t1: number, t2: number }, log?: (line: string) => void }} options
 */
export async function runBench(options = {}) {
  const repeats = options.repeats ?? 5;
  const seconds = options.seconds ?? 1;
  const settings = options.settings ?? { arch: [784, 500, 10], batch: 64, t1: 100, t2: 20 };
  const chromium = options.chromium ?? process.env.HTS_CHROMIUM ?? "/usr/bin/chromium";
  const log = options.log ?? (() => {});
  if (!existsSync(benchTool)) throw new Error(`${benchTool} is missing: build tools/bench first (pnpm bench builds it)`);
  if (!existsSync(chromium)) throw new Error(`no Chromium at ${chromium} (apt-get install -y chromium, or set HTS_CHROMIUM)`);
  const tmp = mkdtempSync(join(tmpdir(), "hts-playground-bench-"));
  const { build } = await import("vite");
  await build({ root: appDir, configFile: join(appDir, "vite.config.ts"), logLevel: "error", build: { outDir: join(tmp, "page"), emptyOutDir: true } });
  const dir = join(tmp, "page");
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? "/").split(/[?#]/)[0]));
    const file = join(dir, path);
    if (!file.startsWith(dir) || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" }).end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { chromium: launcher } = await import("playwright-core");
  const context = await launcher.launchPersistentContext(join(tmp, "profile"), {
    executablePath: chromium,
    headless: true,
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-unsafe-swiftshader", "--use-angle=swiftshader"],
  });
  const rounds = [];
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`http://127.0.0.1:${server.address().port}/bench.html`);
    await page.waitForFunction("globalThis.__htsBench !== undefined");
    const about = await page.evaluate("({ isolated: globalThis.__htsBench.isolated, userAgent: globalThis.__htsBench.userAgent })");
    log(`# ${about.userAgent}; cross-origin isolated: ${about.isolated}`);
    for (let r = 0; r < repeats; r++) {
      const node = nodeRepeat(seconds, settings);
      const browser = await page.evaluate(({ seconds, settings }) => globalThis.__htsBench.run({ seconds, settings }), { seconds, settings });
      rounds.push({ node, browser });
      log(`repeat ${r + 1}: node ${node.samplesPerSecond.toFixed(0)}; ${browser.map((f) => `${f.kind} ${f.samplesPerSecond === null ? "n/a" : f.samplesPerSecond.toFixed(0)}`).join("; ")}`);
    }
  } finally {
    await context.close();
    server.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  return { settings, seconds, repeats, rounds };
}

/** Medians (min-max) per figure, and each browser figure over Node's median. */
export function summarize(result) {
  const node = result.rounds.map((r) => r.node.samplesPerSecond);
  const nm = median(node);
  const rows = [{ figure: "node wasm-f32, one thread (tools/bench)", backend: "wasm-f32", threads: 1, reason: "Node", median: nm, min: Math.min(...node), max: Math.max(...node), overNode: 1 }];
  for (const kind of ["wasm-1", "wasm-threads", "gpu"]) {
    const figs = result.rounds.map((r) => r.browser.find((f) => f.kind === kind)).filter(Boolean);
    const v = figs.map((f) => f.samplesPerSecond).filter((x) => x !== null);
    const first = figs[0];
    if (v.length === 0) rows.push({ figure: `chromium ${kind}`, backend: null, threads: 0, reason: first?.reason ?? "not run", median: null, min: null, max: null, overNode: null });
    else rows.push({ figure: `chromium ${kind}`, backend: first.backend, threads: first.threads, reason: first.reason, median: median(v), min: Math.min(...v), max: Math.max(...v), overNode: median(v) / nm });
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name, d) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : d;
  };
  const json = process.argv.includes("--json");
  const result = await runBench({ repeats: arg("repeats", 5), seconds: arg("seconds", 1), log: (l) => process.stderr.write(`${l}\n`) });
  const rows = summarize(result);
  if (json) process.stdout.write(`${JSON.stringify({ ...result, summary: rows })}\n`);
  else {
    const f = (x) => (x === null ? "n/a" : Math.round(x).toLocaleString("en-US"));
    process.stdout.write(`784-500-10, batch 64, T1 100, T2 20; ${result.repeats} alternating repeats of >= ${result.seconds} s; median (min-max) samples/s\n`);
    for (const r of rows) process.stdout.write(`${r.figure.padEnd(42)} ${`${f(r.median)} (${f(r.min)}-${f(r.max)})`.padEnd(24)} ${r.overNode === null ? "" : `${r.overNode.toFixed(2)} of Node`}  ${r.reason}\n`);
  }
}
