import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readSafetensorsFile } from "@hts/ep";
import { describe, expect, it } from "vitest";
import { hts, idxFolder, tempDir } from "./helpers.js";

/**
 * Cross-check against the independent PyTorch EP reference (shared/bench/ep_torch_ref.py,
 * beside the repository): from the same initial weights, dt and minibatches, both must
 * give the same weights (max abs difference <= 1e-4).
 */
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const script = resolve(repo, "../shared/bench/ep_torch_ref.py");
const env = { ...process.env, PYENV_VERSION: "system" };
const probe = existsSync(script) ? spawnSync("python3", ["-c", "import torch, numpy"], { env, encoding: "utf8" }) : null;
const why = !existsSync(script)
  ? `the reference ${script} is not there`
  : probe?.status !== 0
    ? `python3 cannot import torch (${(probe?.stderr ?? "").trim().split("\n").pop()}); install Debian's python3-torch`
    : "";
if (why) console.warn(`cross-check against the PyTorch reference SKIPPED: ${why}`);

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

describe.skipIf(why !== "")("cross-check with the PyTorch reference", () => {
  it.each(cases)("$arch, T1 $t1, T2 $t2, beta $beta, $steps minibatch(es): same weights within 1e-4", async (c) => {
    const x = tempDir("hts-xcheck-");
    const idx = await idxFolder(c.train, 20);
    const ref = spawnSync(
      "python3",
      [script, "--idx", idx, "--arch", c.arch, "--T1", String(c.t1), "--T2", String(c.t2), "--beta", String(c.beta), "--lr", c.lr,
        "--batch", "20", ...c.dt, "--no-shuffle", "--max-steps", String(c.steps), "--train-n", String(c.train), "--test-n", "20",
        "--save-init", join(x, "init.safetensors"), "--save", join(x, "ref.safetensors")],
      { env, encoding: "utf8", cwd: x },
    );
    expect(ref.status, ref.stderr).toBe(0);
    const r = await hts("train", "--dataset", `idx:${idx}`, "--init", join(x, "init.safetensors"), "--epochs", "1", "--batch", "20",
      "--no-shuffle", "--arch", c.arch, "--t1", String(c.t1), "--t2", String(c.t2), "--beta", String(c.beta), "--lr", c.lr,
      "--nudge", "one-sided", "--dynamics", "gradient", "--energy", "hopfield", "--activation", "hard-sigmoid", "--cost", "mse",
      "--optimizer", "sgd", "--backend", "cpu", "--train-size", String(c.train), "--out", join(x, "out"));
    expect(r.code, r.stderr).toBe(0);
    const a = await readSafetensorsFile(join(x, "ref.safetensors"));
    const b = await readSafetensorsFile(join(x, "out", "model.safetensors"));
    const init = await readSafetensorsFile(join(x, "init.safetensors"));
    let maxDiff = 0;
    let maxMove = 0;
    for (const [name, t] of a.tensors) {
      if (!/^[Wb]\d+$/.test(name)) continue;
      const u = b.tensors.get(name);
      const i0 = init.tensors.get(name);
      expect(u?.shape).toEqual(t.shape);
      for (let k = 0; k < t.data.length; k++) {
        maxDiff = Math.max(maxDiff, Math.abs(Number(t.data[k]) - Number(u?.data[k])));
        maxMove = Math.max(maxMove, Math.abs(Number(t.data[k]) - Number(i0?.data[k])));
      }
    }
    console.log(`cross-check ${c.arch} x${c.steps}: max |W_ref - W_hts| = ${maxDiff.toExponential(2)}, weights moved by up to ${maxMove.toExponential(2)}`);
    // The update must be real (weights moved) and the two implementations must agree.
    expect(maxMove).toBeGreaterThan(1e-4);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
  });
});
