import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CSV_COLUMNS } from "@hts/study";
import { hts, tempDir } from "./helpers.js";
import { allElements, markGroups, parseCsv, parseXml } from "./parse.js";
import { MAIN, requireBuild } from "./study-helpers.js";

beforeAll(requireBuild);

interface Row {
  config: string;
  runs: number;
  ok: number;
  diverged: number;
  crashed: number;
  accuracyMean: number | null;
  accuracySd: number | null;
  accuracyWorst: number | null;
  accuracyBest: number | null;
  collapses: number;
  jitter: number | null;
  freeResidual: number | null;
  secondsMean: number | null;
}

const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8"));

/** Test accuracies per epoch of one run folder, read straight from metrics.jsonl. */
function accuracies(runDir: string): number[] {
  return readFileSync(join(runDir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((m) => m.nonFinite === false)
    .map((m) => m.testAccuracy as number);
}

describe("hts study --preset quick", () => {
  const out = join(tempDir("hts-study-"), "quick");
  let result: Awaited<ReturnType<typeof hts>>;

  beforeAll(async () => {
    result = await hts("study", "--preset", "quick", "--out", out, "--jobs", "2", "--json");
  }, 120_000);

  it("runs every configuration and seed and exits 0", () => {
    expect(result.stderr).not.toMatch(/WARN|Error/);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout.trim().split("\n").pop() as string);
    expect(summary).toMatchObject({ status: "ok", runs: 6, ranNow: 6, skipped: 0, crashed: 0 });
    for (const dist of ["constant", "lognormal", "cauchy"]) {
      for (const seed of [0, 1]) {
        const dir = join(out, "runs", dist, `seed-${seed}`);
        for (const f of ["config.json", "metrics.jsonl", "model.safetensors", "run.json", "train.log"]) expect(existsSync(join(dir, f)), `${dir}/${f}`).toBe(true);
        const run = readJson(join(dir, "run.json"));
        expect(run).toMatchObject({ status: "ok", config: dist, seed, message: null });
        expect(readJson(join(dir, "config.json"))).toMatchObject({ arch: [784, 32, 10], epochs: 2, seed, trainSize: 400, testSize: 200, dt: { dist, mean: 0.3, sd: 0.1, min: 1e-3, max: 0.5 } });
        expect(accuracies(dir)).toHaveLength(2);
      }
    }
    // No temporary folder is left behind.
    for (const c of readdirSync(join(out, "runs"))) expect(readdirSync(join(out, "runs", c)).sort()).toEqual(["seed-0", "seed-1"]);
    expect(existsSync(join(out, "study.lock"))).toBe(false);
    expect(readJson(join(out, "study.json"))).toMatchObject({ format: "hts-study/1", definition: { preset: "quick", dists: ["constant", "lognormal", "cauchy"], seeds: [0, 1], epochs: 2 } });
  });

  it("summary.json has one row per configuration, with numbers in range that agree with the run folders", () => {
    const s = readJson(join(out, "summary.json"));
    const rows = s.rows as Row[];
    expect(rows.map((r) => r.config)).toEqual(["constant", "lognormal", "cauchy"]);
    for (const r of rows) {
      expect(r).toMatchObject({ runs: 2, ok: 2, diverged: 0, crashed: 0 });
      const finals = [0, 1].map((seed) => accuracies(join(out, "runs", r.config, `seed-${seed}`)).at(-1) as number);
      expect(r.accuracyMean).toBeCloseTo((finals[0]! + finals[1]!) / 2, 12);
      expect(r.accuracyWorst).toBe(Math.min(...finals));
      expect(r.accuracySd).toBeCloseTo(Math.abs(finals[0]! - finals[1]!) / Math.SQRT2, 12);
      expect(r.accuracyMean).toBeGreaterThan(0.2); // well above chance (0.1) after 2 epochs
      expect(r.accuracyMean).toBeLessThanOrEqual(1);
      expect(r.collapses).toBeGreaterThanOrEqual(0);
      expect(r.collapses).toBeLessThanOrEqual(2);
      const jitters = [0, 1].map((seed) => {
        const a = accuracies(join(out, "runs", r.config, `seed-${seed}`));
        return Math.abs(a[1]! - a[0]!);
      });
      expect(r.jitter).toBeCloseTo((jitters[0]! + jitters[1]!) / 2, 12);
      expect(r.freeResidual).toBeGreaterThan(0);
      expect(r.freeResidual).toBeLessThan(1);
      expect(r.secondsMean).toBeGreaterThan(0);
    }
    expect(s.curves).toHaveLength(3 * 2);
    expect(s.runs).toHaveLength(6);
  });

  it("summary.md and summary.csv hold the same rows", () => {
    const md = readFileSync(join(out, "summary.md"), "utf8");
    const tableRows = md.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| configuration") && !l.startsWith("| ---"));
    expect(tableRows.map((l) => l.split("|")[1]?.trim())).toEqual(["constant", "lognormal", "cauchy"]);
    const csv = parseCsv(readFileSync(join(out, "summary.csv"), "utf8"));
    expect(csv[0]).toEqual([...CSV_COLUMNS]);
    expect(csv).toHaveLength(4);
    const rows = readJson(join(out, "summary.json")).rows as Row[];
    csv.slice(1).forEach((cells, i) => {
      expect(cells).toHaveLength(CSV_COLUMNS.length);
      const rec = Object.fromEntries(CSV_COLUMNS.map((c, k) => [c, cells[k]]));
      expect(rec.config).toBe(rows[i]?.config);
      expect(Number(rec.accuracy_mean)).toBeCloseTo(rows[i]?.accuracyMean as number, 12);
      expect(Number(rec.jitter)).toBeCloseTo(rows[i]?.jitter as number, 12);
      for (const c of CSV_COLUMNS.slice(1)) expect(Number.isFinite(Number(rec[c])), `${c} = ${rec[c]}`).toBe(true);
    });
  });

  it("draws the dt histograms: one panel per distribution, the clamped mass in its own colour", () => {
    const svg = parseXml(readFileSync(join(out, "figures", "dt-histograms.svg"), "utf8"));
    expect(svg.name).toBe("svg");
    const panels = markGroups(svg, "rect");
    expect(panels).toHaveLength(3);
    const clampedBars = panels.map((g) => g.children.filter((p) => p.name === "path" && p.attrs.fill === "#e45756").length);
    // constant: nothing at a bound; lognormal: the upper bound only; cauchy: both bounds.
    expect(clampedBars).toEqual([0, 1, 2]);
    const titles = allElements(svg).filter((e) => e.name === "text").map((e) => e.text);
    expect(titles).toContain("cauchy: 10.2% at 0.001, 14.9% at 0.5");
  });

  it("draws test accuracy per epoch: a band and a line per configuration, the baseline dashed beside the others", () => {
    const svg = parseXml(readFileSync(join(out, "figures", "accuracy.svg"), "utf8"));
    expect(svg.name).toBe("svg");
    expect(markGroups(svg, "area")).toHaveLength(3);
    expect(markGroups(svg, "line")).toHaveLength(3 + 2);
    const dashes = markGroups(svg, "line").map((g) => g.children.find((p) => p.name === "path")?.attrs["stroke-dasharray"]);
    expect(dashes.filter((d) => d === "4,3")).toHaveLength(2);
    expect(dashes.filter((d) => d === "1,0")).toHaveLength(3);
  });

  it("draws the stability summary: a bar per configuration for collapses and jitter, a point for accuracy", () => {
    const svg = parseXml(readFileSync(join(out, "figures", "stability.svg"), "utf8"));
    expect(svg.name).toBe("svg");
    const bars = markGroups(svg, "rect");
    expect(bars).toHaveLength(2);
    expect(bars[0]?.children.filter((p) => p.name === "path")).toHaveLength(3);
    expect(bars[1]?.children.filter((p) => p.name === "path")).toHaveLength(3);
    expect(markGroups(svg, "symbol")[0]?.children.filter((p) => p.name === "path")).toHaveLength(3);
  });

  it("running it again skips every finished run", async () => {
    const before = statSync(join(out, "runs", "constant", "seed-0", "model.safetensors")).mtimeMs;
    const again = await hts("study", "--preset", "quick", "--out", out, "--json");
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/6 already finished, 0 to run/);
    expect(JSON.parse(again.stdout.trim())).toMatchObject({ ranNow: 0, skipped: 6 });
    expect(statSync(join(out, "runs", "constant", "seed-0", "model.safetensors")).mtimeMs).toBe(before);
  });

  it("refuses to resume into the folder with another configuration, unless --reconfigure", async () => {
    const r = await hts("study", "--preset", "quick", "--out", out, "--seeds", "3", "--epochs", "1");
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/another configuration \(seeds: \[0,1\] there, \[0,1,2\] now\) and 6 finished run\(s\).*--reconfigure/);
  });
});

describe("hts study, divergence and crashes", () => {
  it("records a diverging configuration as diverged and a collapse, and finishes the others", async () => {
    const out = tempDir("hts-study-");
    const r = await hts(
      "study",
      "--preset",
      "quick",
      "--dists",
      "constant",
      "--seeds",
      "1",
      "--vary",
      "lr=1e308,1e308|0.1,0.05",
      "--out",
      out,
      "--json",
    );
    expect(r.code).toBe(0);
    const rows = readJson(join(out, "summary.json")).rows as Row[];
    expect(rows.map((x) => x.config)).toEqual(["constant lr=1e308,1e308", "constant lr=0.1,0.05"]);
    expect(rows[0]).toMatchObject({ runs: 1, ok: 0, diverged: 1, crashed: 0, collapses: 1, accuracyMean: null, jitter: null });
    expect(rows[1]).toMatchObject({ runs: 1, ok: 1, diverged: 0, collapses: 0 });
    const run = readJson(join(out, "runs", "constant_lr-1e308_1e308", "seed-0", "run.json"));
    expect(run).toMatchObject({ status: "diverged", exitCode: 3 });
    expect(run.message).toMatch(/non-finite/);
    const csv = parseCsv(readFileSync(join(out, "summary.csv"), "utf8"));
    expect(csv[1]?.[0]).toBe("constant lr=1e308,1e308");
    expect(csv[1]?.[CSV_COLUMNS.indexOf("accuracy_mean")]).toBe("");
    expect(readFileSync(join(out, "summary.md"), "utf8")).toMatch(/\| constant lr=1e308,1e308 \| 1\/1 \| n\/a \| n\/a \| 1 \| 0 \| 1 \| 0 \|/);
  });

  it("records a crashing run as crashed with its message, goes on, exits 1, and retries it when run again", async () => {
    const out = tempDir("hts-study-");
    const args = ["study", "--preset", "quick", "--dists", "constant", "--seeds", "2", "--dataset", "idx:/nonexistent-mnist", "--out", out, "--json"];
    const r = await hts(...args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/2 run\(s\) crashed/);
    const rows = readJson(join(out, "summary.json")).rows as Row[];
    expect(rows[0]).toMatchObject({ config: "constant", runs: 2, ok: 0, diverged: 0, crashed: 2, collapses: 0, accuracyMean: null });
    const run = readJson(join(out, "runs", "constant", "seed-1", "run.json"));
    expect(run).toMatchObject({ status: "crashed", exitCode: 1 });
    expect(run.message).toMatch(/hts train: error \[HTS_DATA_NOT_FOUND\]: .*nonexistent-mnist/);
    const again = await hts(...args);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/= 2 run\(s\) in .*; 2 at a time|= 2 run\(s\) in [^;]*; \d at a time/);
    expect(again.stderr).not.toMatch(/already finished/);
  });
});

describe("hts study, killed and resumed", () => {
  it("keeps the runs finished before a SIGKILL and redoes only the others", async () => {
    const out = tempDir("hts-study-");
    const args = [MAIN, "study", "--preset", "quick", "--dists", "constant,lognormal", "--seeds", "2", "--jobs", "1", "--out", out];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    // Wait for the first finished run, then kill the study outright.
    const first = join(out, "runs", "constant", "seed-0", "run.json");
    const deadline = Date.now() + 60_000;
    while (!existsSync(first) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(first)).toBe(true);
    child.kill("SIGKILL");
    await exited;
    expect(stderr).not.toMatch(/done in/);
    const finishedBefore = readdirSync(join(out, "runs"))
      .flatMap((c) => readdirSync(join(out, "runs", c)).map((r) => join(out, "runs", c, r)))
      .filter((d) => !/\.tmp-/.test(d));
    expect(finishedBefore.length).toBeGreaterThanOrEqual(1);
    expect(finishedBefore.length).toBeLessThan(4);
    const mtimes = new Map(finishedBefore.flatMap((d) => readdirSync(d).map((f) => [join(d, f), statSync(join(d, f)).mtimeMs] as const)));
    // A run folder is there whole or not at all.
    for (const d of finishedBefore) expect(existsSync(join(d, "run.json"))).toBe(true);

    const again = await hts("study", "--preset", "quick", "--dists", "constant,lognormal", "--seeds", "2", "--jobs", "1", "--out", out, "--json");
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`${finishedBefore.length} already finished, ${4 - finishedBefore.length} to run`));
    for (const [file, mtime] of mtimes) expect(statSync(file).mtimeMs, file).toBe(mtime);
    const rows = readJson(join(out, "summary.json")).rows as Row[];
    expect(rows.map((r) => [r.config, r.ok])).toEqual([
      ["constant", 2],
      ["lognormal", 2],
    ]);
    for (const c of ["constant", "lognormal"]) expect(readdirSync(join(out, "runs", c)).sort()).toEqual(["seed-0", "seed-1"]);
  });
});

describe("hts study, bad command lines and study files", () => {
  const file = (content: string) => {
    const path = join(tempDir("hts-study-file-"), "study.json");
    writeFileSync(path, content);
    return path;
  };

  it.each([
    [["--preset", "fast"], /--preset: expected one of paper, stress, quick, got "fast"/],
    [["--dists", "constant,gauss"], /--dists: expected one of constant, uniform, .*cauchy, got "gauss"/],
    [["--dists", "constant,constant"], /--dists: expected each distribution once/],
    [["--seeds", "-1"], /--seeds: expected a number of seeds N >= 1 .*got "-1"/],
    [["--seeds", "0,0"], /--seeds: expected each seed once/],
    [["--seeds", "5..2"], /--seeds: expected .* got "5..2"/],
    [["--epochs", "0"], /--epochs: expected an integer >= 1, got "0"/],
    [["--jobs", "0"], /--jobs: expected an integer in \[1, 1024\], got "0"/],
    [["--set", "bogus=1"], /--set bogus=1: expected the name of an hts train option .* got "bogus"/],
    [["--set", "seed=3"], /--set seed=3: expected an hts train option the study does not set itself \(for seed: use --seeds\)/],
    [["--set", "lr"], /--set lr: expected KEY=VALUE with a value for lr/],
    [["--set", "no-shuffle=1"], /--set no-shuffle=1: expected no-shuffle alone \(it is a switch/],
    [["--set", "lr=0.2,0.1", "--vary", "lr=0.1,0.05|0.2,0.1"], /--vary lr: lr is also given with --set/],
    [["--vary", "lr="], /--vary lr=: expected KEY=V1\|V2\|\.\.\. with non-empty values for lr/],
    [["--set", "dt-sd=-1"], /configuration "constant": hts train: --dt-sd: expected a finite number >= 0, got "-1"/],
    [["--set", "dt-sd=0"], /configuration "lognormal": --dt-sd: lognormal: sd must be a finite number > 0, got 0/],
    [["--set", "lr=fast"], /configuration "constant": hts train: --lr: expected a comma-separated list of numbers >= 0, got "fast"/],
    [["--set", "lr=0.1"], /configuration "constant": hts train: --lr: expected 2 rate\(s\), one per weight layer of --arch 784,32,10/],
    [["--vary", "t1=10|0"], /configuration "constant t1=0": hts train: --t1: expected an integer >= 1, got "0"/],
    [["--nonsense"], /hts study: unknown option --nonsense/],
  ])("%j: one line, exit code 2", async (flags, message) => {
    const out = join(tempDir("hts-study-"), "s");
    const r = await hts("study", "--preset", "quick", "--out", out, ...(flags as string[]));
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(message as RegExp);
    expect(r.code).toBe(2);
  });

  it.each([
    ["{ not json", /--study: .*study\.json is not valid JSON/],
    ["[1, 2]", /study\.json: \$: expected a JSON object, got \[1,2\]/],
    ['{ "seeds": [0, -1] }', /study\.json: \$\.seeds\[1\]: expected an integer seed in \[0, 4294967295\], got -1/],
    ['{ "dists": ["constant", "gauss"] }', /study\.json: \$\.dists\[1\]: expected one of constant, .* got "gauss"/],
    ['{ "preset": "fast" }', /study\.json: \$\.preset: expected one of paper, stress, quick, got "fast"/],
    ['{ "epochs": 0 }', /study\.json: \$\.epochs: expected an integer >= 1, got 0/],
    ['{ "trainSize": "many" }', /study\.json: \$\.trainSize: expected an integer >= 1, got "many"/],
    ['{ "set": { "lr": {} } }', /study\.json: \$\.set\["lr"\]: expected a string, a finite number or an array of numbers, got \{\}/],
    ['{ "set": { "no-shuffle": "yes" } }', /study\.json: \$\.set\["no-shuffle"\]: expected true \(the option is a switch\), got "yes"/],
    ['{ "vary": { "lr": [] } }', /study\.json: \$\.vary\["lr"\]: expected a non-empty array of values, got \[\]/],
    ['{ "vary": { "t1": [10, null] } }', /study\.json: \$\.vary\["t1"\]\[1\]: expected a string, a finite number or an array of numbers, got null/],
    ['{ "sets": {} }', /study\.json: \$\.sets: expected no such key \(allowed: preset, dists, seeds, .*\), got "sets"/],
  ])("study file %s: one line naming the JSON path, exit code 2", async (content, message) => {
    const out = join(tempDir("hts-study-"), "s");
    const r = await hts("study", "--study", file(content), "--out", out);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it("a study file is an alternative to the flags, and flags win over it", async () => {
    const path = file(JSON.stringify({ preset: "quick", dists: ["constant"], seeds: [3], epochs: 1, set: { lr: [0.2, 0.1] } }));
    const out = join(tempDir("hts-study-"), "s");
    const r = await hts("study", "--study", path, "--epochs", "2", "--out", out, "--json");
    expect(r.code).toBe(0);
    const def = readJson(join(out, "study.json")).definition;
    expect(def).toMatchObject({ preset: "quick", dists: ["constant"], seeds: [3], epochs: 2, trainSize: 400 });
    expect(def.set.lr).toBe("0.2,0.1");
    expect(readJson(join(out, "runs", "constant", "seed-3", "config.json"))).toMatchObject({ lr: [0.2, 0.1], epochs: 2, seed: 3 });
  });
});
