import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readSafetensorsFile } from "@hts/ep/node";
// "CI is set": the project's one switch that turns a missing oracle from a skip into a failure.
import { gpuRequired as oracleRequired } from "@hts/kernels/gpu-testing";
import { describe, expect, it } from "vitest";
import { hts, idxFolder, tempDir } from "./helpers.js";

/**
 * Cross-check against the independent PyTorch EP reference (shared/bench/ep_torch_ref.py,
 * beside the repository; HTS_TORCH_REF names another copy), run with Debian's python3
 * (PYENV_VERSION=system; HTS_PYTHON names another interpreter): from the same initial
 * weights, dt and minibatches, both must make the same update.
 *
 * Tolerance: max |W_ref - W_hts| over every W and b <= 1e-5 x the largest change of a weight
 * or bias in the reference. Both sides compute in float32, so they differ by rounding only:
 * a few units in the last place of the weights (|W| <= 0.25, where an ulp is <= 1.5e-8) per
 * update. Measured on cpu-f32 (Debian's torch 1.13): differences of 1.49e-8, 4.47e-8 and
 * 5.22e-8 for changes of 6.39e-3, 1.56e-2 and 2.41e-2, ratios 2.3e-6, 2.9e-6 and 2.2e-6 (the
 * figures of the top-level README, up to 6.33e-8, give at most 3.1e-6): a margin of 3x or
 * more. Learning rates 1 % off on our side give ratios of 1e-2 to 3e-2, and 0.01 % off still
 * 1e-4 to 3.6e-4; each case also checks that its tolerance rejects an update 0.1 % too large.
 * The relative form holds while the changes are large against that rounding floor (> 4e-3).
 *
 * Without the script, python3, torch or numpy the suite is one skipped test with the reason;
 * with CI set it is one failing test with the reason.
 */
const REL = 1e-5;

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const script = process.env.HTS_TORCH_REF ?? resolve(repo, "../shared/bench/ep_torch_ref.py");
const python = process.env.HTS_PYTHON ?? "python3";
const env = { ...process.env, PYENV_VERSION: "system" };

function missingReference(): string | null {
  if (!existsSync(script)) return `the PyTorch reference ${script} is not there (set HTS_TORCH_REF to another copy)`;
  const probe = spawnSync(python, ["-c", "import torch, numpy"], { env, encoding: "utf8" });
  if (probe.error) return `${python} cannot be run (${probe.error.message}); install Debian's python3`;
  if (probe.status !== 0) {
    const last = (probe.stderr ?? "").trim().split("\n").pop();
    return `${python} cannot import torch and numpy (${last}); install Debian's python3-torch and python3-numpy`;
  }
  return null;
}

interface Case {
  arch: string;
  lr: string;
  t1: number;
  t2: number;
  beta: number;
  train: number;
  steps: number;
  dt: string[];
}

const cases: Case[] = [
  { arch: "784,500,10", lr: "0.1,0.05", t1: 20, t2: 4, beta: 0.5, train: 20, steps: 1, dt: ["--dt-dist", "lognormal"] },
  { arch: "784,500,10", lr: "0.1,0.05", t1: 30, t2: 6, beta: 0.3, train: 60, steps: 3, dt: ["--dt", "0.3"] },
  { arch: "784,200,100,10", lr: "0.1,0.1,0.05", t1: 25, t2: 5, beta: 0.5, train: 40, steps: 2, dt: ["--dt-dist", "lognormal"] },
];

const missing = missingReference();
if (missing !== null && !oracleRequired()) {
  console.warn(`cross-check against the PyTorch reference: skipped, ${missing}`);
  it.skip(`cross-check with the PyTorch reference: ${missing}`, () => {});
} else if (missing !== null) {
  it("cross-check with the PyTorch reference: the reference can be run (required: CI is set)", () => {
    throw new Error(`no PyTorch reference: ${missing}`);
  });
} else {
  describe("cross-check with the PyTorch reference", () => {
    it.each(cases)(`$arch, T1 $t1, T2 $t2, beta $beta, $steps minibatch(es): same update within ${REL.toExponential()} of its size`, async (c) => {
      const x = tempDir("hts-xcheck-");
      const idx = await idxFolder(c.train, 20);
      const ref = spawnSync(
        python,
        [script, "--idx", idx, "--arch", c.arch, "--T1", String(c.t1), "--T2", String(c.t2), "--beta", String(c.beta), "--lr", c.lr,
          "--batch", "20", ...c.dt, "--no-shuffle", "--max-steps", String(c.steps), "--train-n", String(c.train), "--test-n", "20",
          "--save-init", join(x, "init.safetensors"), "--save", join(x, "ref.safetensors")],
        { env, encoding: "utf8", cwd: x },
      );
      expect(ref.status, ref.stderr).toBe(0);
      const r = await hts("train", "--dataset", `idx:${idx}`, "--init", join(x, "init.safetensors"), "--epochs", "1", "--batch", "20",
        "--no-shuffle", "--arch", c.arch, "--t1", String(c.t1), "--t2", String(c.t2), "--beta", String(c.beta), "--lr", c.lr,
        "--input", "raw", "--nudge", "one-sided", "--dynamics", "gradient", "--energy", "hopfield", "--activation", "hard-sigmoid", "--cost", "mse",
        "--optimizer", "sgd", "--backend", "cpu", "--train-size", String(c.train), "--out", join(x, "out"));
      expect(r.code, r.stderr).toBe(0);
      const a = await readSafetensorsFile(join(x, "ref.safetensors"));
      const b = await readSafetensorsFile(join(x, "out", "model.safetensors"));
      const init = await readSafetensorsFile(join(x, "init.safetensors"));
      let maxDiff = 0;
      let maxMove = 0;
      // What the difference would be if our update were 0.1 % too large.
      let maxDiffOff = 0;
      let tensors = 0;
      for (const [name, t] of a.tensors) {
        if (!/^[Wb]\d+$/.test(name)) continue;
        tensors++;
        const u = b.tensors.get(name);
        const i0 = init.tensors.get(name);
        expect(u?.shape).toEqual(t.shape);
        expect(i0?.shape).toEqual(t.shape);
        for (let k = 0; k < t.data.length; k++) {
          const want = Number(t.data[k]);
          const got = Number(u?.data[k]);
          const start = Number(i0?.data[k]);
          maxDiff = Math.max(maxDiff, Math.abs(want - got));
          maxMove = Math.max(maxMove, Math.abs(want - start));
          maxDiffOff = Math.max(maxDiffOff, Math.abs(want - (start + 1.001 * (got - start))));
        }
      }
      const tolerance = REL * maxMove;
      console.log(
        `cross-check ${c.arch} x${c.steps}: max |W_ref - W_hts| = ${maxDiff.toExponential(2)}, weights moved by up to ${maxMove.toExponential(2)}, ` +
          `ratio ${(maxDiff / maxMove).toExponential(2)} (tolerance ${REL.toExponential()})`,
      );
      expect(tensors).toBe(2 * (c.arch.split(",").length - 1));
      // The update is real, and large against float32's rounding of the weights themselves.
      expect(maxMove).toBeGreaterThan(4e-3);
      // The two implementations made the same update...
      expect(maxDiff, `max |W_ref - W_hts| against ${REL.toExponential()} x ${maxMove.toExponential(2)}`).toBeLessThanOrEqual(tolerance);
      // ...and the tolerance is tight enough to see an update 0.1 % off.
      expect(maxDiffOff).toBeGreaterThan(tolerance);
    });
  });
}
