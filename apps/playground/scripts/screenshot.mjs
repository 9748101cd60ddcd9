#!/usr/bin/env node
/**
 * Regenerates docs/playground.png (the root README's picture): builds the page, serves it
 * cross-origin isolated, trains two epochs of the defaults and of the scalar-dt twin in
 * headless Chromium (`?autostart=1&epochs=2&twin=1`), relaxes the network on test digit 0,
 * and writes a full-page screenshot (atomically).
 *
 *   node scripts/screenshot.mjs [OUT.png]
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "@hts/study/node";

const appDir = fileURLToPath(new URL("..", import.meta.url));
const target = resolve(process.argv[2] ?? join(appDir, "..", "..", "docs", "playground.png"));
const chromium = process.env.HTS_CHROMIUM ?? "/usr/bin/chromium";
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json" };

const tmp = mkdtempSync(join(tmpdir(), "hts-playground-shot-"));
try {
  const { build } = await import("vite");
  const dir = join(tmp, "page");
  await build({ root: appDir, configFile: join(appDir, "vite.config.ts"), logLevel: "error", build: { outDir: dir, emptyOutDir: true } });
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? "/").split(/[?#]/)[0]));
    const file = join(dir, path.endsWith("/") ? `${path}index.html` : path);
    if (!file.startsWith(dir) || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" }).end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { chromium: launcher } = await import("playwright-core");
  const context = await launcher.launchPersistentContext(join(tmp, "profile"), { executablePath: chromium, headless: true, viewport: { width: 1400, height: 1000 }, args: ["--no-sandbox", "--no-first-run", "--enable-unsafe-swiftshader"] });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`http://127.0.0.1:${server.address().port}/?autostart=1&epochs=2&twin=1`);
    await page.waitForFunction("globalThis.__hts?.outcome !== null && globalThis.__hts?.running === false", undefined, { timeout: 600_000, polling: 500 });
    const outcome = await page.evaluate("globalThis.__hts.outcome");
    if (outcome.status !== "ok") throw new Error(`the run ended with ${outcome.status}: ${outcome.message}`);
    await page.click("#pick");
    await page.waitForFunction("document.getElementById('try-status')?.dataset.prediction !== undefined", undefined, { timeout: 60_000 });
    await page.waitForTimeout(3000);
    writeFileAtomic(target, await page.screenshot({ fullPage: true }));
    process.stdout.write(`${target}: test accuracy ${outcome.finalTestAccuracy}\n`);
  } finally {
    await context.close();
    server.close();
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
