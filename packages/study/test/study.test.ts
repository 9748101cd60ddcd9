import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createInProcessExecutor, nodeEnvironment, PRESETS, planStudy, runStudy, StudyError, type StudyDefinition } from "../src/node.js";

const tiny: StudyDefinition = {
  ...PRESETS.quick,
  dists: ["constant", "gamma"],
  seeds: [0, 1],
  epochs: 1,
  trainSize: 64,
  testSize: 64,
  set: { ...PRESETS.quick.set, arch: "784,16,10", t1: "15", t2: "5", batch: "8", backend: "cpu" },
};

describe("planStudy", () => {
  it("plans seeds outermost, one RunSpec per configuration and seed, with the hts train arguments", () => {
    const plan = planStudy({ ...tiny, vary: { lr: ["0.1,0.05", "0.2,0.1"] } });
    expect(plan.map((p) => p.id)).toEqual([
      "constant_lr-0.1_0.05/seed-0",
      "constant_lr-0.2_0.1/seed-0",
      "gamma_lr-0.1_0.05/seed-0",
      "gamma_lr-0.2_0.1/seed-0",
      "constant_lr-0.1_0.05/seed-1",
      "constant_lr-0.2_0.1/seed-1",
      "gamma_lr-0.1_0.05/seed-1",
      "gamma_lr-0.2_0.1/seed-1",
    ]);
    const p = plan[7];
    expect(p?.spec).toMatchObject({ seed: 1, lr: [0.2, 0.1], arch: [784, 16, 10], epochs: 1, trainSize: 64, dt: { dist: "gamma", mean: 0.3, sd: 0.1, min: 1e-3, max: 0.5 } });
    expect(p?.folder).toBe("runs/gamma_lr-0.2_0.1/seed-1");
    expect(p?.args).toContain("--lr=0.2,0.1");
  });

  it("a bad setting is one StudyError naming the configuration and the flag", () => {
    const bad = (def: StudyDefinition) => {
      try {
        planStudy(def, { flagPrefix: "x: " });
      } catch (e) {
        return e as StudyError;
      }
      throw new Error("expected a StudyError");
    };
    const e = bad({ ...tiny, vary: { t1: ["10", "0"] } });
    expect(e).toBeInstanceOf(StudyError);
    expect(e.parameter).toBe("t1");
    expect(e.message).toBe('configuration "constant t1=0": x: --t1: expected an integer >= 1, got "0"');
    expect(bad({ ...tiny, dists: ["lognormal"], set: { ...tiny.set, "dt-sd": "0" } }).message).toMatch(/^configuration "lognormal": --dt-sd: lognormal: sd must be/);
  });
});

describe("runStudy", () => {
  it("writes the study folder; a rerun skips finished runs; a folder of another definition is refused", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "hts-study-lib-")), "s");
    const lines: string[] = [];
    const outcome = await runStudy(tiny, { dir, jobs: 2, onLog: (l) => lines.push(l) });
    expect(outcome).toMatchObject({ status: "ok", ranNow: 4, skipped: 0, crashed: 0, refused: null });
    expect(outcome.rows.map((r) => [r.config, r.ok])).toEqual([
      ["constant", 2],
      ["gamma", 2],
    ]);
    for (const f of ["study.json", "summary.md", "summary.csv", "summary.json", "figures"]) expect(existsSync(join(dir, f)), f).toBe(true);
    expect(readdirSync(join(dir, "runs", "gamma")).sort()).toEqual(["seed-0", "seed-1"]);
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    const finals = [0, 1].map((s) => JSON.parse(readFileSync(join(dir, "runs", "gamma", `seed-${s}`, "run.json"), "utf8")).finalTestAccuracy as number);
    expect(summary.rows[1].accuracyMean).toBeCloseTo((finals[0]! + finals[1]!) / 2, 12);
    expect(lines.filter((l) => l.startsWith("["))).toHaveLength(4);

    // The in-process executor gives the same final accuracies as the study's child processes.
    const plan = planStudy(tiny);
    const again = await createInProcessExecutor(nodeEnvironment()).execute(plan.map((p) => ({ id: p.id, spec: p.spec })));
    for (const [i, p] of plan.entries()) {
      const rec = JSON.parse(readFileSync(join(dir, p.folder, "run.json"), "utf8"));
      expect(again[i]?.result?.finalTestAccuracy, p.id).toBe(rec.finalTestAccuracy);
    }

    const rerun = await runStudy(tiny, { dir, jobs: 2 });
    expect(rerun).toMatchObject({ ranNow: 0, skipped: 4 });
    await expect(runStudy({ ...tiny, seeds: [0, 1, 2] }, { dir })).rejects.toThrow(/another configuration \(seeds: \[0,1\] there, \[0,1,2\] now\) and 4 finished run\(s\)/);
    const grown = await runStudy({ ...tiny, seeds: [0, 1, 2] }, { dir, jobs: 2, reconfigure: true });
    expect(grown).toMatchObject({ ranNow: 2, skipped: 4 });
  });

  it("the in-process executor stops at the abort: the runs after it are cancelled", async () => {
    const plan = planStudy({ ...tiny, epochs: 2 });
    const abort = new AbortController();
    const outcomes = await createInProcessExecutor(nodeEnvironment()).execute(
      plan.map((p) => ({ id: p.id, spec: p.spec })),
      { signal: abort.signal, onEvent: (_id, e) => e.kind === "epoch" && abort.abort() },
    );
    expect(outcomes.map((o) => o.status)).toEqual(["cancelled", "cancelled", "cancelled", "cancelled"]);
    expect(outcomes[0]?.seconds).toBeGreaterThan(0);
  });
});
