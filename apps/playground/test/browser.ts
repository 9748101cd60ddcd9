/**
 * What the page tests share: the page built by Vite (with the package's vite.config.ts) into
 * a temporary folder, a static server for it (with or without the COOP/COEP headers), and
 * Debian's Chromium driven by playwright-core (nothing is downloaded). Without Chromium the
 * tests are skipped with the reason, or fail when CI is set.
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContext } from "playwright-core";

export const appDir = fileURLToPath(new URL("..", import.meta.url));
export const repoDir = join(appDir, "..", "..");
export const chromiumPath = process.env.HTS_CHROMIUM ?? "/usr/bin/chromium";
export const ci = process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false" && process.env.CI !== "0";
/** Why the browser tests cannot run here, or null. */
export const missing = existsSync(chromiumPath) ? null : `no Chromium at ${chromiumPath} (apt-get install -y chromium, or set HTS_CHROMIUM)`;

/** Skips (outside CI) or fails (under CI) a test whose browser is missing; returns when it may run. */
export function needsBrowser(ctx: { skip: () => void }): void {
  if (missing === null) return;
  if (!ci) {
    console.warn(`skipped: ${missing}`);
    ctx.skip();
  }
  throw new Error(missing);
}

/** Builds the page with its own vite.config.ts into `outDir`. */
export async function buildPage(outDir: string): Promise<void> {
  const { build } = await import("vite");
  await build({ root: appDir, configFile: join(appDir, "vite.config.ts"), logLevel: "error", build: { outDir, emptyOutDir: true } });
}

const TYPES: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".wasm": "application/wasm" };

/** Serves `dir` as a static host would; `isolate` adds the cross-origin isolation headers. */
export function serve(dir: string, isolate: boolean): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? "/").split(/[?#]/)[0] as string));
    const file = join(dir, path.endsWith("/") ? `${path}index.html` : path);
    if (!file.startsWith(dir) || !existsSync(file)) return void res.writeHead(404).end();
    const headers: Record<string, string> = { "content-type": TYPES[extname(file)] ?? "application/octet-stream" };
    if (isolate) Object.assign(headers, { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" });
    res.writeHead(200, headers).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })));
}

/** Launches Chromium headless (SwiftShader for WebGL2: a CPU renderer). */
export async function launch(profile: string): Promise<BrowserContext> {
  const { chromium } = await import("playwright-core");
  return chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1400, height: 1000 },
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-unsafe-swiftshader", "--use-angle=swiftshader"],
  });
}
