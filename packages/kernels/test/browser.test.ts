import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PageResults } from "../browser/main.js";
import { gpuRequired } from "../src/gpu-testing.js";

// The conformance suite of test/conformance.test.ts, unchanged, in a real browser: the page
// in browser/ is built with vite (vitest swapped for a small shim, test/gpu-env.ts for
// browser/gpu-env.ts, which makes the gpu.js backend on WebGL2), served on 127.0.0.1 and
// run in headless Chromium (Debian's package, driven by playwright-core; nothing is
// downloaded). The page reports every test's outcome and the WebGL renderer back here.
// Without Chromium or WebGL2 the suite is skipped with the reason, or fails when CI is set.

const kernelsDir = fileURLToPath(new URL("..", import.meta.url));
const browserDir = join(kernelsDir, "browser");
const chromium = process.env.HTS_CHROMIUM ?? "/usr/bin/chromium";
const missing = existsSync(chromium) ? null : `no Chromium at ${chromium} (apt-get install -y chromium, or set HTS_CHROMIUM)`;

const TYPES: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm" };

function serve(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? "/").split("?")[0] as string));
    const file = join(root, path === "/" ? "index.html" : path);
    if (!file.startsWith(root) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      resolve({ server, url: `http://127.0.0.1:${port}/` });
    });
  });
}

if (missing !== null && !gpuRequired()) {
  console.warn(`browser conformance: skipped, ${missing}`);
  it.skip(`browser conformance: ${missing}`, () => {});
} else {
  describe("conformance suite in headless Chromium, gpu.js on WebGL2", () => {
    let results: PageResults | null = null;
    let failure: string | null = missing;
    const out = mkdtempSync(join(tmpdir(), "hts-browser-"));

    beforeAll(async () => {
      if (failure !== null) return;
      const { build } = await import("vite");
      await build({
        root: browserDir,
        logLevel: "error",
        configFile: false,
        plugins: [
          {
            // The package says "sideEffects": false; the test files are nothing but side effects.
            name: "hts-tests-have-side-effects",
            transform(code: string, id: string) {
              return /[\\/](test|browser)[\\/]/.test(id) ? { code, map: null, moduleSideEffects: true } : null;
            },
          },
        ],
        resolve: {
          alias: [
            { find: /^vitest$/, replacement: join(browserDir, "vitest-shim.ts") },
            { find: /^\.\/gpu-env\.js$/, replacement: join(browserDir, "gpu-env.ts") },
          ],
        },
        build: { outDir: join(out, "page"), emptyOutDir: true, target: "es2022", minify: false, reportCompressedSize: false },
      });
      const { server, url } = await serve(join(out, "page"));
      const { chromium: launcher } = await import("playwright-core");
      const extra = (process.env.HTS_CHROMIUM_FLAGS ?? "--enable-unsafe-swiftshader").split(" ").filter(Boolean);
      const context = await launcher.launchPersistentContext(join(out, "profile"), {
        executablePath: chromium,
        headless: true,
        args: [
          "--no-sandbox",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
          ...extra,
        ],
      });
      try {
        const page = context.pages()[0] ?? (await context.newPage());
        const logs: string[] = [];
        page.on("console", (m) => logs.push(m.text()));
        page.on("pageerror", (e) => logs.push(String(e)));
        await page.goto(url);
        await page.waitForFunction("globalThis.__htsResults?.done === true", undefined, { timeout: 300_000 });
        results = (await page.evaluate("globalThis.__htsResults")) as PageResults;
        if (results.failed > 0) console.warn(`browser page console:\n${logs.slice(-20).join("\n")}`);
      } finally {
        await context.close();
        server.close();
      }
      if (results.backend === null) failure = `no WebGL2 GPU backend in Chromium: ${results.gpuUnavailable}`;
      console.log(
        `browser conformance: ${results.passed} passed, ${results.failed} failed, ${results.skipped} skipped in ${(results.ms / 1000).toFixed(1)} s; ` +
          `backend ${results.backend}, WebGL renderer: ${results.renderer}`,
      );
    }, 400_000);

    afterAll(() => rmSync(out, { recursive: true, force: true }));

    it("the page ran the gpu backend's conformance suite on WebGL2", (ctx) => {
      if (failure !== null && !gpuRequired()) {
        console.warn(`browser conformance: skipped, ${failure}`);
        ctx.skip();
      }
      expect(failure).toBeNull();
      const r = results as PageResults;
      expect(r.backend).toBe("gpu-webgl2");
      expect(r.renderer).toBeTypeOf("string");
      // Every gemm case, every activation, the optimizers and the reductions ran on the GPU.
      const gpuTests = r.names.filter((n) => n.startsWith("gpu-webgl2 conforms"));
      expect(gpuTests.length).toBeGreaterThanOrEqual(40);
    });

    it("every conformance test passed in the browser", (ctx) => {
      if (results === null && !gpuRequired()) ctx.skip();
      const r = results as PageResults;
      expect(r.failures).toEqual([]);
      expect(r.failed).toBe(0);
      expect(r.passed).toBeGreaterThan(0);
    });
  });
}
