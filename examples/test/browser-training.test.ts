import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { EMBEDDED_FILES } from "@hts/datasets";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OneEpochResult, trainOneEpoch } from "../src/one-epoch.js";

// One epoch of training from a script that imports only library packages
// (src/one-epoch.ts), run here in Node and, bundled by Vite for the browser, in headless
// Chromium (Debian's package, driven by playwright-core; nothing is downloaded). Both must
// give the same test accuracy and the same trained weights, bit for bit. Without Chromium
// the browser half is skipped with the reason, or fails when CI is set.

const examplesDir = fileURLToPath(new URL("..", import.meta.url));
const mnistRoot = dirname(createRequire(createRequire(import.meta.url).resolve("@hts/datasets")).resolve("mnist/package.json"));
const chromium = process.env.HTS_CHROMIUM ?? "/usr/bin/chromium";
const ci = process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false" && process.env.CI !== "0";
const missing = existsSync(chromium) ? null : `no Chromium at ${chromium} (apt-get install -y chromium, or set HTS_CHROMIUM)`;
const BACKENDS = ["cpu", "wasm"] as const;
const TYPES: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".json": "application/json", ".wasm": "application/wasm" };

/** Serves the built page at / and the mnist package's files at /mnist/. */
function serve(page: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? "/").split("?")[0] as string));
    const [base, rel] = path.startsWith("/mnist/") ? [mnistRoot, path.slice("/mnist/".length)] : [page, path === "/" ? "index.html" : path];
    const file = join(base, rel);
    if (!file.startsWith(base) || !existsSync(file)) return void res.writeHead(404).end();
    // Cross-origin isolation, so that a backend may use SharedArrayBuffer workers in the page.
    res
      .writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" })
      .end(readFileSync(file));
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` }));
  });
}

describe("one epoch from the library packages, in Node and in headless Chromium", () => {
  const node = new Map<string, OneEpochResult>();
  let browser: { results: OneEpochResult[]; error: string | null; userAgent: string } | null = null;
  const out = mkdtempSync(join(tmpdir(), "hts-one-epoch-"));

  beforeAll(async () => {
    const files = EMBEDDED_FILES.map((f) => new Uint8Array(readFileSync(join(mnistRoot, f))));
    for (const b of BACKENDS) node.set(b, await trainOneEpoch(files, b));
    if (missing !== null) return;
    const { build } = await import("vite");
    await build({
      root: join(examplesDir, "browser"),
      logLevel: "error",
      configFile: false,
      build: { outDir: join(out, "page"), emptyOutDir: true, target: "es2022", minify: false, reportCompressedSize: false },
    });
    const { server, url } = await serve(join(out, "page"));
    const { chromium: launcher } = await import("playwright-core");
    const context = await launcher.launchPersistentContext(join(out, "profile"), {
      executablePath: chromium,
      headless: true,
      args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const logs: string[] = [];
      page.on("console", (m) => logs.push(m.text()));
      page.on("pageerror", (e) => logs.push(String(e)));
      await page.goto(`${url}?backends=${BACKENDS.join(",")}`);
      await page.waitForFunction("globalThis.__htsOneEpoch?.done === true", undefined, { timeout: 300_000 });
      browser = (await page.evaluate("globalThis.__htsOneEpoch")) as typeof browser;
      if (browser?.error) console.warn(`page console:\n${logs.slice(-20).join("\n")}`);
    } finally {
      await context.close();
      server.close();
    }
    for (const r of browser?.results ?? []) console.log(`browser ${r.backend}: test accuracy ${r.testAccuracy} weights ${r.weightsChecksum} (${r.seconds.toFixed(1)} s)`);
  }, 600_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("trains in Node, well above chance (1 in 10)", () => {
    const cpu = node.get("cpu") as OneEpochResult;
    expect(cpu.backend).toBe("cpu-f32");
    expect(cpu.trainExamples).toBe(1000);
    expect(cpu.testExamples).toBe(500);
    expect(cpu.testAccuracy).toBeGreaterThan(0.6);
    for (const r of node.values()) console.log(`node ${r.backend}: test accuracy ${r.testAccuracy} weights ${r.weightsChecksum} (${r.seconds.toFixed(1)} s)`);
  });

  it.for(BACKENDS)("the browser gives Node's accuracy and weights on %s", (b, ctx) => {
    if (missing !== null) {
      if (!ci) {
        console.warn(`browser half: skipped, ${missing}`);
        ctx.skip();
      }
      throw new Error(`browser half: ${missing}`);
    }
    expect(browser?.error ?? null).toBeNull();
    const want = node.get(b) as OneEpochResult;
    const got = browser?.results.find((r) => r.backend === want.backend);
    expect(got, `the page ran no ${want.backend} (it ran ${browser?.results.map((r) => r.backend).join(", ")})`).toBeDefined();
    expect(got?.testAccuracy).toBe(want.testAccuracy);
    expect(got?.weightsChecksum).toBe(want.weightsChecksum);
  });
});
