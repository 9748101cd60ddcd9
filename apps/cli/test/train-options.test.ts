import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hts, tempDir } from "./helpers.js";

const small = ["--train-size", "1000", "--test-size", "300", "--arch", "784,60,10", "--t1", "40", "--t2", "10", "--epochs", "2"];

function metrics(dir: string): Record<string, unknown>[] {
  return readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("hts train: components beyond the default recipe", () => {
  it("--cost ce trains the read-out: the checkpoint holds Wout [10, 60] and bout, and learns as well as mse", async () => {
    const dir = tempDir();
    const ce = await hts("train", ...small, "--cost", "ce", "--lr", "0.1,0.05", "--out", join(dir, "ce"), "--json");
    expect(ce.code, ce.stderr).toBe(0);
    const mse = await hts("train", ...small, "--out", join(dir, "mse"), "--json");
    expect(mse.code, mse.stderr).toBe(0);
    const a = JSON.parse(ce.stdout.trim()) as { finalTestAccuracy: number };
    const b = JSON.parse(mse.stdout.trim()) as { finalTestAccuracy: number };
    expect(a.finalTestAccuracy).toBeGreaterThan(0.8);
    expect(a.finalTestAccuracy).toBeGreaterThan(b.finalTestAccuracy - 0.03);
    const file = readFileSync(join(dir, "ce", "model.safetensors"));
    const header = JSON.parse(file.subarray(8, 8 + Number(file.readBigUInt64LE(0))).toString("utf8")) as Record<string, { shape: number[] }>;
    expect(header.Wout?.shape).toEqual([10, 60]);
    expect(header.bout?.shape).toEqual([10]);
    expect(header.W1?.shape).toEqual([60, 784]);
    expect(header.W2).toBeUndefined();
    const ev = await hts("eval", "--model", join(dir, "ce", "model.safetensors"), "--test-size", "300", "--train-size", "1000", "--json");
    expect(ev.code, ev.stderr).toBe(0);
    expect((JSON.parse(ev.stdout.trim()) as { testAccuracy: number }).testAccuracy).toBeCloseTo(a.finalTestAccuracy, 10);
  });

  it.each([
    [["--activation", "sigmoid"], /hopfield energy \+ sigmoid \+ leaky rule \+ mse cost is not sound: .*use the gradient rule/],
    [["--activation", "tanh", "--dynamics", "leaky"], /hopfield energy \+ tanh \+ leaky rule .* is not sound/],
    [["--energy", "primitive", "--activation", "sigmoid", "--dynamics", "gradient"], /primitive energy \+ sigmoid \+ gradient rule .* is not sound: .*use the leaky rule/],
  ])("refuses an unsound combination %j with one line and exit 2", async (flags, message) => {
    const r = await hts("train", ...small, ...flags);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatch(message);
  });

  it("--cost ce needs a relaxed layer before the classes", async () => {
    const r = await hts("train", "--arch", "784,10", "--lr", "0.1", "--cost", "ce");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--arch: with --cost ce the last entry is the read-out's classes/);
  });

  it("--val-size: validation accuracy every epoch, the best epoch marked, the test split once at the end", async () => {
    const dir = tempDir();
    const r = await hts("train", ...small, "--epochs", "3", "--val-size", "200", "--out", dir, "--json");
    expect(r.code, r.stderr).toBe(0);
    const m = metrics(dir);
    expect(m.map((l) => typeof l.validationAccuracy)).toEqual(["number", "number", "number"]);
    expect(m.map((l) => l.testAccuracy === null)).toEqual([true, true, false]);
    expect(m.filter((l) => l.best === true).length).toBe(1);
    const best = m.find((l) => l.best === true) as Record<string, number>;
    expect(Math.max(...m.map((l) => l.validationAccuracy as number))).toBe(best.validationAccuracy);
    const summary = JSON.parse(r.stdout.trim()) as { bestEpoch: number; config: { trainExamples: number; validationExamples: number } };
    expect(summary.bestEpoch).toBe(best.epoch);
    expect((summary as unknown as { lastValidationAccuracy: number }).lastValidationAccuracy).toBe(m[2]?.validationAccuracy);
    expect(summary.config.trainExamples).toBe(800);
    expect(summary.config.validationExamples).toBe(200);
    const bad = await hts("train", ...small, "--val-size", "1000");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--val-size: 1000 leaves no training examples/);
  });

  it("--input standardize records the transform fitted on the training split, and eval applies it", async () => {
    const dir = tempDir();
    const r = await hts("train", ...small, "--input", "standardize", "--lr", "0.02,0.02", "--out", dir, "--json");
    expect(r.code, r.stderr).toBe(0);
    const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as { inputTransform: { mode: string; mean: number[]; sd: number[] } };
    expect(cfg.inputTransform.mode).toBe("standardize");
    expect(cfg.inputTransform.mean[0]).toBeGreaterThan(0.1);
    expect(cfg.inputTransform.mean[0]).toBeLessThan(0.15);
    expect(cfg.inputTransform.sd[0]).toBeGreaterThan(0.28);
    expect(cfg.inputTransform.sd[0]).toBeLessThan(0.33);
    const final = (JSON.parse(r.stdout.trim()) as { finalTestAccuracy: number }).finalTestAccuracy;
    const ev = await hts("eval", "--model", join(dir, "model.safetensors"), "--train-size", "1000", "--test-size", "300", "--json");
    expect(ev.code, ev.stderr).toBe(0);
    expect((JSON.parse(ev.stdout.trim()) as { testAccuracy: number }).testAccuracy).toBe(final);
  });

  it("--order even-odd and --persistent train as well as the synchronous order from s = 0", async () => {
    const acc = async (...flags: string[]) => {
      const r = await hts("train", ...small, ...flags, "--json");
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout.trim()) as { finalTestAccuracy: number }).finalTestAccuracy;
    };
    const base = await acc();
    expect(base).toBeGreaterThan(0.6);
    expect(await acc("--order", "even-odd", "--persistent")).toBeGreaterThan(base - 0.03);
  });

  it("--help lists the options in reading order: data, network, dynamics, training, output; T1 before T2", async () => {
    const r = await hts("train", "--help");
    expect(r.code).toBe(0);
    const at = (s: string) => r.stdout.indexOf(s);
    const headings = ["Data:", "Network:", "Dynamics:", "Training:", "Output:"].map(at);
    expect(headings.every((i) => i > 0)).toBe(true);
    expect([...headings].sort((x, y) => x - y)).toEqual(headings);
    expect(at("--t1 N")).toBeLessThan(at("--t2 N"));
    expect(at("--t1 N")).toBeGreaterThan(at("Dynamics:"));
    expect(at("--dataset SRC")).toBeLessThan(at("Network:"));
    expect(at("--out DIR")).toBeGreaterThan(at("Output:"));
  });
});

describe("the README's hts train tables", () => {
  it("list every option of --help with the same default", async () => {
    const help = (await hts("train", "--help")).stdout;
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("## `hts train`"), readme.indexOf("### Files written by `--out`"));
    const rows = new Map<string, string>();
    for (const m of section.matchAll(/^\| `--([a-z0-9-]+)(?: [A-Z.]+)?` \| ([^|]+) \|/gm)) rows.set(m[1] as string, (m[2] as string).trim());
    const options = [...help.matchAll(/^ {2}--([a-z0-9-]+)(?: [A-Z.]+)?\s+(.*)$/gm)].filter((m) => m[1] !== "help");
    expect(options.length).toBeGreaterThan(30);
    for (const m of options) {
      const name = m[1] as string;
      expect(rows.has(name), `--${name} is not in the README`).toBe(true);
      const dflt = /\[default: ([^\]]+)\]$/.exec(m[2] as string)?.[1];
      if (dflt !== undefined) expect(rows.get(name), `--${name}`).toBe(`\`${dflt}\``);
    }
  });
});
