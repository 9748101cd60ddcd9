import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import { describe, expect, it } from "vitest";

/**
 * The root entry of every library package bundles for the browser: esbuild with
 * `platform: "browser"` from the built `dist`, every export kept (`import *`), and any import
 * of a Node built-in (`node:fs`, `fs`, `worker_threads`..., static or dynamic) is an error
 * that names the importing file. A package's `./node` entry, which is Node-only on purpose,
 * must fail the same check: the check can fail.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** The library packages: every packages/* with a package.json that is not private. */
const packages = readdirSync(join(root, "packages"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => {
    try {
      return JSON.parse(readFileSync(join(root, "packages", d.name, "package.json"), "utf8")) as { name: string; private?: boolean; exports?: Record<string, unknown> };
    } catch {
      return null;
    }
  })
  .filter((m): m is { name: string; exports?: Record<string, unknown> } => m !== null && m.private !== true)
  .map((m) => ({ name: m.name, entries: Object.keys(m.exports ?? { ".": {} }).filter((k) => !k.endsWith(".json")) }));

/** Records every import of a Node built-in, with the file that imports it. */
function refuseBuiltins(found: string[]): Plugin {
  return {
    name: "refuse-node-builtins",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!builtins.has(args.path)) return undefined;
        found.push(`${args.path} (imported by ${args.importer.replace(`${root}/`, "")})`);
        return { path: args.path, external: true };
      });
    },
  };
}

async function bundle(specifier: string): Promise<{ builtins: string[]; errors: string[]; bytes: number }> {
  const found: string[] = [];
  const r = await build({
    stdin: { contents: `import * as m from ${JSON.stringify(specifier)};\nglobalThis.__hts = m;\n`, resolveDir: join(root, "tools", "packaging"), loader: "js" },
    bundle: true,
    write: false,
    platform: "browser",
    format: "esm",
    target: "es2022",
    logLevel: "silent",
    plugins: [refuseBuiltins(found)],
  }).catch((e: { errors?: { text: string }[] }) => ({ errors: e.errors ?? [{ text: String(e) }], outputFiles: [] }));
  return {
    builtins: found,
    errors: r.errors.map((e) => e.text),
    bytes: (r.outputFiles ?? []).reduce((n, f) => n + f.contents.length, 0),
  };
}

describe("browser bundles of the library packages' root entries", () => {
  it("finds the library packages", () => {
    expect(packages.map((p) => p.name)).toEqual(expect.arrayContaining(["@hts/distributions", "@hts/energy", "@hts/kernels", "@hts/ep", "@hts/datasets"]));
  });

  it.each(packages.map((p) => [p.name]))("%s bundles for platform browser with no Node built-in", async (name) => {
    const r = await bundle(name);
    expect(r.errors).toEqual([]);
    expect(r.builtins).toEqual([]);
    expect(r.bytes).toBeGreaterThan(1000);
  }, 60_000);

  const nodeEntries = packages.filter((p) => p.entries.includes("./node")).map((p) => [`${p.name}/node`]);
  it.each(nodeEntries)("%s (Node-only on purpose) is caught by the same check", async (specifier) => {
    const r = await bundle(specifier);
    expect(r.builtins.length).toBeGreaterThan(0);
    expect(r.builtins.join("\n")).toMatch(/^node:|^(fs|path|zlib|module|worker_threads|crypto)/m);
  }, 60_000);
});
