import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { hts, tempDir } from "./helpers.js";

const main = resolve(dirname(fileURLToPath(import.meta.url)), "../dist/main.js");
const run = ["--train-size", "600", "--test-size", "100", "--arch", "784,40,10", "--t1", "30", "--t2", "8", "--epochs", "3"];

function waitFor(file: string, child: ChildProcess, ms: number): Promise<void> {
  return new Promise((ok, fail) => {
    const t0 = Date.now();
    const tick = () => {
      if (existsSync(file)) return ok();
      if (child.exitCode !== null) return fail(new Error(`the run ended (${child.exitCode}) before ${file} appeared`));
      if (Date.now() - t0 > ms) return fail(new Error(`timed out waiting for ${file}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

describe("hts train --resume", () => {
  it.each([
    ["sgd", ["--optimizer", "sgd", "--lr", "0.1,0.05"]],
    ["adam", ["--optimizer", "adam", "--lr", "0.002,0.001"]],
    [
      "persistent states, even/odd order, CE read-out, validation split, standardized input",
      ["--persistent", "--order", "even-odd", "--cost", "ce", "--val-size", "100", "--input", "standardize", "--lr", "0.02,0.01"],
    ],
  ])("a run killed (SIGKILL) after its first epoch and resumed ends with the same weights as an uninterrupted run (%s)", async (_name, opt) => {
    const dir = tempDir("hts-resume-");
    const whole = spawnSync("node", [main, "train", ...run, ...opt, "--out", join(dir, "whole")], { encoding: "utf8" });
    expect(whole.status, whole.stderr).toBe(0);

    const child = spawn("node", [main, "train", ...run, ...opt, "--out", join(dir, "cut")], { stdio: "ignore" });
    await waitFor(join(dir, "cut", "checkpoint.safetensors"), child, 60_000);
    child.kill("SIGKILL");
    await new Promise((ok) => child.once("exit", ok));
    const before = readFileSync(join(dir, "cut", "metrics.jsonl"), "utf8").trim().split("\n").length;
    expect(before).toBeLessThan(3);

    const r = await hts("train", "--resume", join(dir, "cut"));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/resuming .* after epoch [12] of 3/);
    expect(readFileSync(join(dir, "cut", "model.safetensors"))).toEqual(readFileSync(join(dir, "whole", "model.safetensors")));
    const a = readFileSync(join(dir, "whole", "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const b = readFileSync(join(dir, "cut", "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(b.map((l) => l.testAccuracy)).toEqual(a.map((l) => l.testAccuracy));
    expect(b.map((l) => l.validationAccuracy)).toEqual(a.map((l) => l.validationAccuracy));
    if (opt.includes("--persistent")) {
      const ck = readFileSync(join(dir, "cut", "checkpoint.safetensors"));
      expect(ck.includes(Buffer.from('"persistent.states"'))).toBe(true);
    }
  });

  it("--resume refuses other settings and a folder without a checkpoint", async () => {
    const dir = tempDir();
    const r1 = await hts("train", "--resume", dir, "--lr", "0.1,0.1");
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/--lr cannot be combined with --resume/);
    const r2 = await hts("train", "--resume", dir);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/checkpoint\.safetensors does not exist/);
  });
});
