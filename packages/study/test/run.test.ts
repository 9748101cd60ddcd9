import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { applyInputTransform, fitInputTransform } from "@hts/datasets";
import { clamp, createDistribution, createRng } from "@hts/distributions";
import { createCost, createEnergy } from "@hts/energy";
import { createNetwork, createSession, createTrainer, snapshotNetwork } from "@hts/ep";
import { createCpuBackend } from "@hts/kernels";
import { describe, expect, it } from "vitest";
import {
  createInProcessExecutor,
  createLocalExecutor,
  createRunSpec,
  type ExecutedRun,
  loadRunData,
  nodeEnvironment,
  prepareRun,
  type RunTask,
  readRunFolder,
  runPrepared,
  trainToFolder,
} from "../src/node.js";

const tiny = createRunSpec({ trainSize: 64, testSize: 64, arch: [784, 16, 10], epochs: 1, batch: 8, t1: 20, t2: 6, backend: "cpu", seed: 3 });

/** The records without their wall-clock fields. */
function timeless(metrics: readonly unknown[]): unknown[] {
  return metrics.map((m) => {
    const { trainSeconds: _a, evalSeconds: _b, samplesPerSecond: _c, ...rest } = m as Record<string, unknown>;
    return rest;
  });
}

describe("prepareRun + runPrepared", () => {
  it("train exactly as a session composed by hand from @hts/ep (same weights, same records)", async () => {
    const data = await loadRunData(tiny);
    const run = prepareRun({ spec: tiny, data, backend: createCpuBackend() });
    const result = await runPrepared(run);
    expect(result.status).toBe("ok");
    expect(result.epochs).toBe(1);

    // The same run by hand.
    const backend = createCpuBackend();
    const t = fitInputTransform(data.train, "standardize", { sd: 0.35 });
    const train = applyInputTransform(data.train, t);
    const test = applyInputTransform(data.test, t);
    const seed = createRng(3);
    const dtRng = seed.jump();
    const orderRng = dtRng.jump();
    const nudgeRng = dtRng.jump().jump();
    const dt = clamp(createDistribution("lognormal", { mean: 0.3, sd: 0.1 }), { min: 1e-3, max: 0.5, mode: "clip" });
    const network = createNetwork({ backend, sizes: [784, 16, 10], dt, weightRng: seed, dtRng });
    const trainer = createTrainer({
      network,
      energy: createEnergy("hopfield", "hard-sigmoid"),
      cost: createCost("mse"),
      nudgeRng,
      config: { t1: 20, t2: 6, beta: 0.5, nudge: "symmetric", dynamics: "leaky", order: "sync", persistent: false, batch: 8, tolerance: 0, optimizer: { name: "sgd", lr: [0.2, 0.05], momentum: 0.9, weightDecay: 0 } },
    });
    const session = createSession({ trainer, data: { train, test }, epochs: 1, orderRng, nudgeRng, lrDecay: 0.8, shuffle: true, evalBatch: 256 });
    while (session.next().status === "ok");
    const a = snapshotNetwork(run.network);
    const b = snapshotNetwork(network);
    expect(a.W.map((w) => Array.from(w))).toEqual(b.W.map((w) => Array.from(w)));
    expect(a.dt.map((w) => Array.from(w))).toEqual(b.dt.map((w) => Array.from(w)));
    expect(timeless(result.metrics)).toEqual(timeless(session.metrics));
  });

  it("learns: after 2 epochs on 400 digits the test accuracy is well above chance and above the untrained network's", async () => {
    const spec = createRunSpec({ ...tiny, trainSize: 400, testSize: 200, epochs: 2, arch: [784, 32, 10], t1: 30, t2: 8 });
    const data = await loadRunData(spec);
    const run = prepareRun({ spec, data, backend: createCpuBackend() });
    const before = run.trainer.evaluate(run.data.test).accuracy;
    const result = await runPrepared(run);
    expect(result.finalTestAccuracy as number).toBeGreaterThan(0.3);
    expect(result.finalTestAccuracy as number).toBeGreaterThan(before + 0.1);
  });

  it("refuses settings that do not fit the data, naming the field", async () => {
    const data = await loadRunData(tiny);
    expect(() => prepareRun({ spec: { ...tiny, batch: 100 }, data, backend: createCpuBackend() })).toThrow(/^batch: 100 is more than the 64 training examples/);
    expect(() => prepareRun({ spec: { ...tiny, valSize: 64 }, data, backend: createCpuBackend() })).toThrow(/^valSize: 64 leaves no training examples/);
    expect(() => prepareRun({ spec: { ...tiny, arch: [100, 16, 10] }, data, backend: createCpuBackend() })).toThrow(/^arch: the input layer has 100 neurons but embedded examples have 784 pixels/);
  });
});

describe("run warnings", () => {
  it("a clip that piles most dt at a bound, and dt settings an init checkpoint overrides, are logged and recorded", async () => {
    const data = await loadRunData(tiny);
    const lines: string[] = [];
    const piled = prepareRun({ spec: { ...tiny, dt: { ...tiny.dt, mean: 2 } }, data, backend: createCpuBackend(), onLog: (l, level) => lines.push(`${level} ${l}`) });
    expect(piled.record.warnings).toHaveLength(1);
    expect(piled.record.warnings[0]).toMatch(/^dt: 100\.0 % of the dt drawn from lognormal \(mean 2, sd 0\.1\) are clipped to the upper bound 0\.5/);
    expect(lines.filter((l) => l.startsWith("error warning: dt: "))).toHaveLength(1);
    const quiet = prepareRun({ spec: tiny, data, backend: createCpuBackend() });
    expect(quiet.record.warnings).toEqual([]);
    const init = prepareRun({ spec: { ...tiny, init: "x.safetensors", dt: { ...tiny.dt, dist: "cauchy" } }, init: snapshotNetwork(quiet.network), data, backend: createCpuBackend() });
    expect(init.record.warnings).toEqual(["init: the dt of x.safetensors is used; the dt settings given (dt-dist cauchy) are ignored"]);
  });
});

describe("trainToFolder and readRunFolder", () => {
  it("a run resumed from its folder ends with the same model.safetensors bytes as an uninterrupted one", async () => {
    const spec = createRunSpec({ ...tiny, epochs: 3, optimizer: "adam", lr: [0.01, 0.005], persistent: true, nudge: "random-sign", valSize: 16 });
    const dir = mkdtempSync(join(tmpdir(), "hts-study-run-"));
    const whole = join(dir, "whole");
    const parts = join(dir, "parts");
    await trainToFolder({ task: { id: "w", spec }, dir: whole });
    await trainToFolder({ task: { id: "p", spec: { ...spec, epochs: 1 } }, dir: parts });
    for (const f of ["config.json", "metrics.jsonl", "model.safetensors", "checkpoint.safetensors"]) expect(existsSync(join(parts, f)), f).toBe(true);
    const folder = readRunFolder(parts);
    expect(folder.state.session.epochsDone).toBe(1);
    expect(folder.spec).toMatchObject({ epochs: 1, optimizer: "adam", persistent: true, valSize: 16 });
    const result = await trainToFolder({ task: { id: "p", spec: { ...folder.spec, epochs: 3 } }, dir: parts, resume: folder.state });
    expect(result.epochs).toBe(3);
    expect(Buffer.compare(readFileSync(join(parts, "model.safetensors")), readFileSync(join(whole, "model.safetensors")))).toBe(0);
    const lines = (d: string) => readFileSync(join(d, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    // The interrupted run evaluated the test split after its (then last) first epoch; the rest agrees.
    expect(lines(parts).map((m) => m.validationAccuracy)).toEqual(lines(whole).map((m) => m.validationAccuracy));
    expect(timeless(lines(parts).slice(1))).toEqual(timeless(lines(whole).slice(1)));
  });

  it("readRunFolder refuses a folder without a training state", () => {
    const dir = mkdtempSync(join(tmpdir(), "hts-study-empty-"));
    expect(() => readRunFolder(dir)).toThrow(/checkpoint\.safetensors does not exist/);
    writeFileSync(join(dir, "checkpoint.safetensors"), "not safetensors");
    expect(() => readRunFolder(dir)).toThrow(/is not a training checkpoint/);
  });
});

describe("executors", () => {
  const tasks: RunTask[] = [
    { id: "a", spec: tiny },
    { id: "b", spec: { ...tiny, seed: 4, dt: { ...tiny.dt, dist: "gamma" }, nudge: "one-sided" } },
    { id: "too-big", spec: { ...tiny, batch: 1000 } },
  ];
  const sameRun = (r: ExecutedRun) => ({ id: r.id, status: r.status, message: r.message, metrics: r.result ? timeless(r.result.metrics) : null, final: r.result?.finalTestAccuracy ?? null, config: r.result?.config ?? null });

  it("the in-process and the local executor give the same outcomes for the same tasks; the local one writes complete run folders", async () => {
    const events: string[] = [];
    const inProcess = await createInProcessExecutor(nodeEnvironment()).execute(tasks, { onEvent: (id, e) => events.push(`${id}:${e.kind}`) });
    expect(inProcess.map((r) => r.status)).toEqual(["ok", "ok", "invalid"]);
    expect(inProcess[2]?.message).toMatch(/^batch: 1000 is more than the 64 training examples/);
    expect(events).toContain("a:epoch");
    expect(events.filter((e) => e.endsWith(":end"))).toHaveLength(3);
    const dir = mkdtempSync(join(tmpdir(), "hts-study-local-"));
    const local = await createLocalExecutor({ jobs: 2, dir }).execute(
      tasks.map((t) => ({ ...t, folder: `runs/${t.id}`, meta: { note: t.id } })),
    );
    expect(local.map(sameRun)).toEqual(inProcess.map(sameRun));
    const record = JSON.parse(readFileSync(join(dir, "runs", "a", "run.json"), "utf8"));
    expect(record).toMatchObject({ format: "hts-study-run/1", note: "a", status: "ok", exitCode: 0, finalTestAccuracy: local[0]?.result?.finalTestAccuracy });
    expect(readFileSync(join(dir, "runs", "a", "train.log"), "utf8")).toMatch(/^backend: cpu-f32 [\s\S]*epoch 1\/1 [\s\S]*done in /);
    expect(existsSync(join(dir, "runs", "too-big"))).toBe(false);
  });

  it("a registration module named in the spec's imports is loaded in the worker; an aborted signal cancels", async () => {
    const module = pathToFileURL(join(import.meta.dirname, "fixtures", "register-tenth.mjs")).href;
    const task: RunTask = { id: "custom", spec: { ...tiny, imports: [module], dt: { ...tiny.dt, dist: "tenth" } } };
    const [run] = await createLocalExecutor({ jobs: 1 }).execute([task]);
    expect(run?.status, run?.message ?? "").toBe("ok");
    const recorded = (run as ExecutedRun).result as NonNullable<ExecutedRun["result"]>;
    expect((recorded.config.dtDistribution as { params: { mean: number } }).params.mean).toBeCloseTo(0.03, 12);
    const abort = new AbortController();
    abort.abort();
    const cancelled = await createLocalExecutor({ jobs: 1 }).execute([task], { signal: abort.signal });
    expect(cancelled.map((r) => r.status)).toEqual(["cancelled"]);
  });
});
