import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hts, tempDir } from "./helpers.js";

const SMALL = ["--epochs", "1", "--train-size", "200", "--test-size", "100", "--t1", "10", "--t2", "4", "--arch", "784,32,10"];

describe("hts train says when a setting does not do what it says", () => {
  it("a clamp that piles most dt at a bound: one line on stderr and in config.json; a short backend line", async () => {
    const dir = tempDir();
    const r = await hts("train", ...SMALL, "--dt-mean", "2", "--out", dir);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split("\n").filter((l) => l.includes("warning"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warning: dt: 100\.0 % of the dt drawn from lognormal \(mean 2, sd 0\.1\) are clipped to the upper bound 0\.5/);
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    expect(config.warnings).toEqual([(lines[0] as string).slice("warning: ".length)]);
    const backend = r.stdout.split("\n").find((l) => l.startsWith("backend: ")) as string;
    expect(backend.length).toBeLessThanOrEqual(160);
    expect(config.backendReason.length).toBeGreaterThanOrEqual(backend.length - "backend: ".length - 60);
  });

  it("--init with --dt-* settings: the checkpoint's dt wins, and the run says so", async () => {
    const dir = tempDir();
    expect((await hts("train", ...SMALL, "--out", dir)).code).toBe(0);
    const r = await hts("train", ...SMALL, "--init", join(dir, "model.safetensors"), "--dt-dist", "cauchy", "--dt-sd", "0.2");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: init: the dt of .*model\.safetensors is used; the dt settings given \(dt-dist cauchy, dt-sd 0\.2\) are ignored/);
    const quiet = await hts("train", ...SMALL);
    expect(quiet.stderr).not.toMatch(/warning/);
  });
});
