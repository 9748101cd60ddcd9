import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readSafetensorsFile } from "@hts/ep/node";
import { describe, expect, it } from "vitest";
import { hts, idxFolder, tempDir } from "./helpers.js";

const small = ["--train-size", "500", "--test-size", "200", "--t1", "40", "--t2", "10", "--arch", "784,40,10"];

describe("hts train", () => {
  it("trains on embedded digits and writes config.json, metrics.jsonl and model.safetensors", async () => {
    const out = join(tempDir(), "run");
    const r = await hts("train", ...small, "--epochs", "2", "--out", out, "--json");
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.trim());
    expect(summary.status).toBe("ok");
    expect(summary.epochs).toBe(2);
    // 784-40-10 on 500 digits, 2 epochs: about 70 % (chance is 10 %).
    expect(summary.finalTestAccuracy).toBeGreaterThan(0.4);
    expect(r.stderr).toMatch(/epoch 2\/2/);
    const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
    expect(config.arch).toEqual([784, 40, 10]);
    expect(config.dt.dist).toBe("lognormal");
    const lines = readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.epoch)).toEqual([1, 2]);
    for (const l of lines) {
      expect(l.testAccuracy).toBeGreaterThanOrEqual(0);
      expect(l.testAccuracy).toBeLessThanOrEqual(1);
      expect(Number.isFinite(l.freeResidual)).toBe(true);
    }
    const ck = await readSafetensorsFile(join(out, "model.safetensors"));
    expect(ck.tensors.get("W1")?.shape).toEqual([40, 784]);
    expect(ck.tensors.get("W2")?.shape).toEqual([10, 40]);
    expect(ck.tensors.get("dt1")?.shape).toEqual([40]);
    expect(JSON.parse(ck.metadata.config as string).epochsDone).toBe(2);
  });

  it("is reproducible: the same seed gives bit-identical weights", async () => {
    const dir = tempDir();
    const a = await hts("train", ...small, "--epochs", "1", "--seed", "7", "--out", join(dir, "a"));
    const b = await hts("train", ...small, "--epochs", "1", "--seed", "7", "--out", join(dir, "b"));
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(readFileSync(join(dir, "a", "model.safetensors"))).toEqual(readFileSync(join(dir, "b", "model.safetensors")));
  });

  it("--init starts from a checkpoint and keeps its dt over --dt-*", async () => {
    const dir = tempDir();
    await hts("train", ...small, "--epochs", "1", "--dt-dist", "gamma", "--out", join(dir, "a"));
    const r = await hts("train", ...small, "--epochs", "1", "--init", join(dir, "a", "model.safetensors"), "--dt-dist", "constant", "--out", join(dir, "b"));
    expect(r.code).toBe(0);
    const a = await readSafetensorsFile(join(dir, "a", "model.safetensors"));
    const b = await readSafetensorsFile(join(dir, "b", "model.safetensors"));
    expect(Array.from(b.tensors.get("dt1")?.data as Float32Array)).toEqual(Array.from(a.tensors.get("dt1")?.data as Float32Array));
    expect(new Set(Array.from(b.tensors.get("dt1")?.data as Float32Array)).size).toBeGreaterThan(1);
  });

  it("refuses to overwrite an earlier run unless --overwrite is given", async () => {
    const out = tempDir();
    writeFileSync(join(out, "keep.txt"), "x");
    const r = await hts("train", ...small, "--epochs", "1", "--out", out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out: .* already holds files/);
    expect(existsSync(join(out, "config.json"))).toBe(false);
  });

  it("a diverging run stops with a clear message, no NaN accuracies", async () => {
    const out = join(tempDir(), "run");
    const r = await hts("train", ...small, "--epochs", "2", "--lr", "1e308,1e308", "--out", out, "--json");
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/stopped: non-finite parameter after the update of minibatch 1/);
    const summary = JSON.parse(r.stdout.trim());
    expect(summary.status).toBe("diverged");
    expect(summary.finalTestAccuracy).toBeNull();
    expect(readFileSync(join(out, "metrics.jsonl"), "utf8")).not.toMatch(/NaN/);
  });

  it("trains from a folder of IDX files", async () => {
    const dir = await idxFolder(100, 40);
    const r = await hts("train", "--dataset", `idx:${dir}`, "--t1", "10", "--t2", "3", "--arch", "784,20,10", "--epochs", "1", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).config.trainExamples).toBe(100);
  });
});

describe("hts train --config and --print-config", () => {
  it("--print-config prints the effective configuration, which --config reads back; flags win", async () => {
    const dir = tempDir();
    const p = await hts("train", "--print-config", "--dt-dist", "gamma", "--lr", "0.2,0.1");
    expect(p.code).toBe(0);
    const cfg = JSON.parse(p.stdout);
    expect(cfg.dt.dist).toBe("gamma");
    expect(cfg.lr).toEqual([0.2, 0.1]);
    writeFileSync(join(dir, "run.json"), p.stdout);
    const q = await hts("train", "--config", join(dir, "run.json"), "--print-config", "--epochs", "7");
    expect(q.code).toBe(0);
    expect(JSON.parse(q.stdout)).toEqual({ ...cfg, epochs: 7 });
  });

  it.each([
    ['{"epochs": 0}', /\$\.epochs is 0: expected number to be >=1/],
    ['{"epochz": 3}', /\$\.epochz is 3: expected no such setting/],
    ['{"dt": {"dist": "beta"}}', /\$\.dt\.dist is "beta": expected one of/],
    ['{"arch": [784, 100, 10], "lr": [0.1]}', /\$\.lr is \[0\.1\]: expected 2 rate\(s\)/],
    ['{"dt": {"min": 0.4, "max": 0.2}}', /\$\.dt\.max is 0\.2: expected a number > dt\.min \(0\.4\)/],
    ['{"lr": [0.1, "fast"]}', /\$\.lr\[1\] is "fast": expected number/],
    ['{"beta": -1}', /\$\.beta is -1: expected number to be >0/],
    ['{"nudge": "both"}', /\$\.nudge is "both": expected one of/],
    ['[1, 2]', /\$ is \[1,2\]: expected object/],
    ["{not json", /is not valid JSON/],
  ])("rejects %s naming the JSON path, the value and what is allowed", async (text, pattern) => {
    const dir = tempDir();
    writeFileSync(join(dir, "bad.json"), text);
    const r = await hts("train", "--config", join(dir, "bad.json"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("hts eval", () => {
  it("evaluates a checkpoint with the settings recorded in it", async () => {
    const out = join(tempDir(), "run");
    const t = await hts("train", ...small, "--epochs", "1", "--out", out, "--json");
    const trained = JSON.parse(t.stdout);
    const r = await hts("eval", "--model", join(out, "model.safetensors"), "--train-size", "500", "--test-size", "200", "--json");
    expect(r.code).toBe(0);
    const e = JSON.parse(r.stdout);
    expect(e.examples).toBe(200);
    expect(e.t1).toBe(40);
    expect(e.testAccuracy).toBeCloseTo(trained.finalTestAccuracy, 10);
  });
});

describe("hts sample", () => {
  it("summarises draws with the clamped mass at each bound", async () => {
    const r = await hts("sample", "--dt-dist", "exponential", "--count", "100000", "--seed", "3");
    expect(r.code).toBe(0);
    const m = /at 0\.5: ([\d.]+)%/.exec(r.stdout);
    expect(m).not.toBeNull();
    // Exponential with mean 0.3: P(X > 0.5) = exp(-0.5/0.3) = 18.9 %.
    expect(Number(m?.[1])).toBeGreaterThan(18.3);
    expect(Number(m?.[1])).toBeLessThan(19.5);
  });

  it("writes values as CSV and JSON", async () => {
    const dir = tempDir();
    const csv = await hts("sample", "--dt-dist", "normal", "--arch", "784,5,3", "--format", "csv", "--output", join(dir, "dt.csv"));
    expect(csv.code).toBe(0);
    const rows = readFileSync(join(dir, "dt.csv"), "utf8").trim().split("\n");
    expect(rows[0]).toBe("layer,neuron,dt");
    expect(rows.length).toBe(1 + 8);
    const js = await hts("sample", "--dt-dist", "uniform", "--count", "50", "--format", "json");
    const parsed = JSON.parse(js.stdout);
    expect(parsed.layers[0].length).toBe(50);
    for (const v of parsed.layers[0]) {
      expect(v).toBeGreaterThanOrEqual(0.001);
      expect(v).toBeLessThanOrEqual(0.5);
    }
  });
});

describe("bad command lines: one line naming the option, exit code 2", () => {
  it.each([
    [["train", "--batch", "abc"], /--batch: expected an integer >= 1, got "abc"/],
    [["train", "--batch", "0"], /--batch: expected an integer >= 1, got "0"/],
    [["train", "--epochs", "-1"], /--epochs: expected an integer >= 1/],
    [["train", "--beta", "0"], /--beta: expected a finite number > 0, got "0"/],
    [["train", "--beta", "NaN"], /--beta: expected a finite number > 0/],
    [["train", "--nudge", "both"], /--nudge: expected one of one-sided, random-sign, symmetric, got "both"/],
    [["train", "--dynamics", "euler"], /--dynamics: expected one of leaky, gradient/],
    [["train", "--energy", "ising"], /--energy: expected one of hopfield, primitive/],
    [["train", "--activation", "relu"], /--activation: expected one of hard-sigmoid, sigmoid, tanh/],
    [["train", "--cost", "hinge"], /--cost: expected one of mse, ce/],
    [["train", "--optimizer", "rmsprop"], /--optimizer: expected one of sgd, momentum, adam/],
    [["train", "--lr", "0.1"], /--lr: expected 2 rate\(s\), one per weight layer/],
    [["train", "--arch", "784,200,100,10"], /--lr: expected 3 rate\(s\)/],
    [["train", "--lr", "0.1,x"], /--lr: expected a comma-separated list of numbers >= 0/],
    [["train", "--arch", "784"], /--arch: expected at least two layer sizes/],
    [["train", "--arch", "784,0,10"], /--arch: expected a comma-separated list of positive integers/],
    [["train", "--dt-dist", "beta"], /--dt-dist: .*beta/],
    [["train", "--dt-min", "0.5", "--dt-max", "0.1"], /--dt-max: expected a number > --dt-min/],
    [["train", "--dt-clamp", "wrap"], /--dt-clamp: expected one of clip, resample/],
    [["train", "--dt-sd", "-1"], /--dt-sd: expected a finite number >= 0/],
    [["train", "--seed", "1.5"], /--seed: expected an integer in \[0, 4294967295\]/],
    [["train", "--dataset", "cifar"], /unknown data set "cifar"/],
    [["train", "--bogus"], /unknown option --bogus/],
    [["train", "--batch"], /--batch needs a value/],
    [["train", "extra"], /unexpected argument "extra"/],
    [["train", "--momentum", "1"], /--momentum: expected a finite number >= 0 and <= 0.999999/],
    [["eval"], /--model FILE is required/],
    [["sample", "--format", "xml"], /--format: expected one of summary, json, csv/],
    [["sample", "--count", "0"], /--count: expected an integer in \[1, 100000000\]/],
    [["frobnicate"], /unknown command "frobnicate"/],
  ])("%j", async (argv, pattern) => {
    const r = await hts(...(argv as string[]));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("every command explains itself with --help", async () => {
    for (const c of ["train", "eval", "sample"]) {
      const r = await hts(c, "--help");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Usage: hts ${c}`));
    }
    const t = await hts("train", "--help");
    expect(t.stdout).toMatch(/--dt-dist NAME/);
    expect(t.stdout).toMatch(/nudged phase/i);
  });
});
