import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// A smoke test of `pnpm bench` (dist/bench.js, built before the tests run): one tiny
// configuration, JSON output, the fields present and sane. No timing is asserted.
const bench = fileURLToPath(new URL("../dist/bench.js", import.meta.url));

function run(...args: string[]) {
  return spawnSync(process.execPath, [bench, ...args], { encoding: "utf8", timeout: 120_000 });
}

describe("pnpm bench", () => {
  it("is built (turbo builds it before its tests)", () => {
    expect(existsSync(bench), `${bench} is missing: build @hts/bench first`).toBe(true);
  });

  it.each(["cpu", "wasm"])("--json with --backend %s prints one object per configuration with the documented fields", (backend) => {
    const r = run("--json", "--backend", backend, "--arch", "784,16,10", "--batch", "4,8", "--t1", "3", "--t2", "2", "--repeats", "2", "--seconds", "0");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    lines.forEach((line, i) => {
      const row = JSON.parse(line) as Record<string, unknown>;
      expect(row).toMatchObject({ backend: `${backend}-f32`, workers: 1, arch: "784,16,10", batch: [4, 8][i], t1: 3, t2: 2, repeats: 2 });
      for (const key of ["samplesPerSecond", "min", "max", "gflops"]) {
        expect(typeof row[key]).toBe("number");
        expect(row[key] as number).toBeGreaterThan(0);
      }
      expect(row.min as number).toBeLessThanOrEqual(row.samplesPerSecond as number);
      expect(row.samplesPerSecond as number).toBeLessThanOrEqual(row.max as number);
    });
  });

  it.each(["digits", "inverted", "dense"])("--data %s trains on those inputs and says how dense they are", (data) => {
    const r = run("--backend", "wasm", "--data", data, "--arch", "784,16,10", "--batch", "8", "--t1", "2", "--t2", "1", "--repeats", "1", "--seconds", "0");
    expect(r.status, r.stderr).toBe(0);
    const nonzero = Number(/data (\w+) \(([0-9.]+) % nonzero\)/.exec(r.stdout)?.[2]);
    expect(r.stdout).toContain(`data ${data} (`);
    // The digits are about 19 % ink; inverted, only the full-ink pixels are 0; uniform pixels are all nonzero.
    const [lo, hi] = { digits: [10, 30], inverted: [95, 99.9], dense: [99.9, 100] }[data] as [number, number];
    expect(nonzero).toBeGreaterThanOrEqual(lo);
    expect(nonzero).toBeLessThanOrEqual(hi);
    const json = run("--json", "--backend", "wasm", "--data", data, "--arch", "784,16,10", "--batch", "8", "--t1", "2", "--t2", "1", "--repeats", "1", "--seconds", "0");
    expect(JSON.parse(json.stdout.trim())).toMatchObject({ data, batch: 8 });
  });

  it("--data digits,dense times both inputs, alternating, with the ratio to the first", () => {
    const r = run("--json", "--backend", "wasm", "--data", "digits,dense", "--arch", "784,16,10", "--batch", "8", "--t1", "2", "--t2", "1", "--repeats", "2", "--seconds", "0");
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((row) => row.data)).toEqual(["digits", "dense"]);
    expect(rows[0]?.overFirst).toBe(1);
    expect(rows[1]?.overFirst).toBeCloseTo((rows[1]?.samplesPerSecond as number) / (rows[0]?.samplesPerSecond as number), 12);
  });

  it("--time-to reports the epochs up to the target validation accuracy, the seconds and the test accuracy then", () => {
    const train = "--train-size 300 --test-size 200 --t1 8 --t2 3 --batch 20 --backend wasm";
    const r = run("--json", "--time-to", "60", `--train=${train}`, "--val-size", "100", "--max-epochs", "3");
    expect(r.status, r.stderr).toBe(0);
    const row = JSON.parse(r.stdout.trim()) as { mode: string; target: number; reached: boolean; epoch: number | null; seconds: number; testAccuracy: number; backend: string; points: { epoch: number; seconds: number; validationAccuracy: number }[] };
    expect(row).toMatchObject({ mode: "time-to", target: 60, train, backend: "wasm-f32" });
    expect(row.points.length).toBeGreaterThanOrEqual(1);
    expect(row.points.map((p) => p.epoch)).toEqual(row.points.map((_, i) => i + 1));
    const first = row.points.findIndex((p) => p.validationAccuracy >= 0.6);
    // It stops at the first epoch at or above the target (or runs every epoch without reaching it).
    if (row.reached) {
      expect(first).toBe(row.points.length - 1);
      expect(row.epoch).toBe(first + 1);
    } else {
      expect(first).toBe(-1);
      expect(row.points).toHaveLength(3);
    }
    expect(row.seconds).toBeGreaterThanOrEqual(row.points.at(-1)?.seconds as number);
    expect(row.testAccuracy).toBeGreaterThan(0.1);
  });

  it.each([
    [["--time-to", "0"], "--time-to"],
    [["--time-to", "94", "--train=--t1"], "--t1"],
    [["--time-to", "94", "--train=--no-such-setting 3"], "no-such-setting"],
    [["--time-to", "94", "--train=t1 5"], "--train"],
  ])("%j is a usage error naming the setting", (args, name) => {
    const r = run(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(name);
  });

  it("--workers 2 --backend wasm reports 2 workers", () => {
    const r = run("--json", "--backend", "wasm", "--workers", "2", "--arch", "784,16,10", "--batch", "16", "--t1", "3", "--t2", "2", "--repeats", "1", "--seconds", "0");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ backend: "wasm-f32", workers: 2, batch: 16 });
  });

  it("--workers 1,2 times both thread counts, alternating, with the ratio to the first", () => {
    const r = run("--json", "--backend", "wasm", "--workers", "1,2", "--arch", "784,16,10", "--batch", "16", "--t1", "3", "--t2", "2", "--repeats", "2", "--seconds", "0");
    expect(r.status).toBe(0);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((row) => row.workers)).toEqual([1, 2]);
    expect(rows[0]?.overFirst).toBe(1);
    expect(rows[1]?.overFirst).toBeCloseTo((rows[1]?.samplesPerSecond as number) / (rows[0]?.samplesPerSecond as number), 12);
  });

  it.each([
    [["--workers", "1,2", "--backend", "cpu"], "--workers 1,2 needs --backend wasm"],
    [["--workers", "1,2", "--backend", "wasm", "--compare-torch"], "--compare-torch takes one --workers count"],
    [["--data", "digits,dense", "--compare-torch"], "--compare-torch takes one --data kind"],
    [["--data", "digits,dense", "--workers", "1,2", "--backend", "wasm"], "--data takes one kind when --workers gives several"],
  ])("%s is a usage error naming the conflict", (args, message) => {
    const r = run(...args, "--json");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it.each([
    ["--workers", "0"],
    ["--workers", "1,17"],
    ["--backend", "fast"],
    ["--arch", "10,5"],
    ["--seconds", "-1"],
    ["--data", "noise"],
  ])("%s %s is a usage error (exit 2)", (flag, value) => {
    const r = run(flag, value, "--json");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(flag);
  });
});
