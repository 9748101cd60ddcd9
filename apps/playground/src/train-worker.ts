/**
 * The training worker: composes and trains runs with `@hts/study` (`prepareRun`, the same
 * composition as `hts train`) on the backend `@hts/kernels` picks, and sends throttled events
 * to the page. No training code lives here: the epoch loop is the library's session; this
 * file only chooses the backend, loads the data, and observes.
 */
import { applyInputTransform, checkInputTransform, type DataSplit, fetchEmbedded, idxSplitFromBytes } from "@hts/datasets";
import { createCost, createEnergy } from "@hts/energy";
import { createEvaluator, createTrainer, decodeCheckpoint, encodeCheckpoint, networkFromSnapshot, type RelaxationStep, snapshotNetwork } from "@hts/ep";
import { type Backend, type BackendChoice, browserThreadsUnavailableReason, browserWasmThreadPool, createBackend, createWasmBackend } from "@hts/kernels";
import { type PreparedRun, prepareRun } from "@hts/study";
import * as Comlink from "comlink";
import { CTRL_PAUSED, CTRL_STEPS, CTRL_STOP, type DataChoice, type ImportedModel, type PageBackend, type RunOutcome, type StartOptions, type TraceStep, type TrainEvent } from "./protocol.js";

/** Least milliseconds between two progress events of one kind. */
const BATCH_EVERY_MS = 250;
const TRACE_EVERY_MS = 1500;
const FIELDS_EVERY_MS = 3000;
/** Hidden units whose receptive fields are sent (the first ones). */
const FIELD_UNITS = 100;

const dataCache = new Map<string, Promise<DataSplit>>();

/** The split of a data choice (the embedded digits with the spec's sizes, or the user's IDX files). */
function loadData(choice: DataChoice, trainSize: number | null, testSize: number | null): Promise<DataSplit> {
  const key = `${choice.kind === "embedded" ? choice.base : `idx:${choice.name}`}|${trainSize}|${testSize}`;
  let p = dataCache.get(key);
  if (!p) {
    const sizes = { ...(trainSize !== null ? { trainSize } : {}), ...(testSize !== null ? { testSize } : {}) };
    p = choice.kind === "embedded" ? fetchEmbedded(choice.base, sizes) : idxSplitFromBytes(choice.files, { ...sizes, source: `idx ${choice.name}` });
    p.catch(() => dataCache.delete(key));
    dataCache.set(key, p);
  }
  return p;
}

/**
 * The backend: `createBackend`'s choice and its report; for wasm-f32 on a cross-origin
 * isolated page, the same kernels on `threads` threads (Web Workers), said in the report.
 */
async function pickBackend(prefer: PageBackend, threads: number): Promise<{ choice: BackendChoice; threads: number }> {
  const choice = await createBackend({ prefer });
  if (choice.backend.name !== "wasm-f32") return { choice, threads: 1 };
  const why = browserThreadsUnavailableReason();
  if (why !== null) return { choice: { backend: choice.backend, reason: `${choice.reason}; one thread: ${why}` }, threads: 1 };
  if (threads <= 1) return { choice: { backend: choice.backend, reason: `${choice.reason}; one thread (wasm threads 1)` }, threads: 1 };
  const backend = await createWasmBackend({ workers: threads, threadPool: browserWasmThreadPool });
  return { choice: { backend, reason: `${choice.reason}; ${threads} threads (Web Workers sharing one SharedArrayBuffer: the page is cross-origin isolated)` }, threads };
}

let backendCache: { key: string; value: Promise<{ choice: BackendChoice; threads: number }> } | null = null;
function backendFor(prefer: PageBackend, threads: number): Promise<{ choice: BackendChoice; threads: number }> {
  const key = `${prefer}|${threads}`;
  if (backendCache?.key !== key) backendCache = { key, value: pickBackend(prefer, threads) };
  return backendCache.value;
}

/** The first `batch` training examples, relaxed with the current weights for the step traces. */
function probeOf(run: PreparedRun): { x: Float32Array; labels: Uint8Array } {
  const { train } = run.data;
  const n = Math.min(run.spec.batch, train.count);
  return { x: train.images.slice(0, n * train.dim), labels: train.labels.slice(0, n) };
}

/** A trainer on the run's network that only observes: `estimate` relaxes both phases and applies nothing. */
function tracer(run: PreparedRun, steps: TraceStep[]) {
  const { spec } = run;
  return createTrainer({
    network: run.network,
    energy: createEnergy(spec.energy, spec.activation),
    cost: createCost(spec.cost),
    config: { ...run.trainer.config, persistent: false, nudge: spec.nudge === "random-sign" ? "one-sided" : spec.nudge },
    onStep: (s: RelaxationStep) => steps.push({ phase: s.phase, step: s.step, energy: s.energy(), cost: s.cost(), residual: s.residual() }),
  });
}

function fieldsOf(run: PreparedRun): TrainEvent {
  const snap = snapshotNetwork(run.network);
  const n0 = snap.sizes[0] as number;
  const n1 = snap.sizes[1] as number;
  const units = Math.min(FIELD_UNITS, n1);
  const W = snap.W[0] as Float32Array;
  // W1 is n0 x n1 row-major: column j is hidden unit j's receptive field.
  const W1 = new Float32Array(units * n0);
  for (let j = 0; j < units; j++) for (let i = 0; i < n0; i++) W1[j * n0 + i] = W[i * n1 + j] as number;
  return { type: "fields", n0, n1: units, W1, dt1: (snap.dt[0] as Float32Array).slice(0, units) };
}

function modelOf(run: PreparedRun): Uint8Array {
  return encodeCheckpoint(snapshotNetwork(run.network), { ...run.record, epochsDone: run.session.epochsDone, minibatches: run.trainer.minibatches });
}

function errorOutcome(e: unknown): RunOutcome {
  const err = e as { message?: string; parameter?: unknown };
  return {
    status: "error",
    message: err?.message ?? String(e),
    parameter: typeof err?.parameter === "string" ? err.parameter : null,
    finalTestAccuracy: null,
    epochs: 0,
  };
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Pause and stop requested without a shared control block (they act between epochs). */
const soft = { paused: false, stop: false, steps: 0 };
let current: PreparedRun | null = null;

const api = {
  /** Trains a run to its end (or a stop) and says how it ended. */
  async start(options: StartOptions, emit: (event: TrainEvent) => void): Promise<RunOutcome> {
    soft.paused = options.paused;
    soft.stop = false;
    soft.steps = options.paused ? 1 : 0;
    const ctrl = options.control ? new Int32Array(options.control) : null;
    let run: PreparedRun;
    let twin: PreparedRun | null = null;
    let backend: Backend;
    // The minibatch observers, set once the runs exist (prepareRun takes them up front).
    const hooks: { main: BatchHook; twin: BatchHook } = { main: () => {}, twin: () => {} };
    try {
      const data = await loadData(options.data, options.spec.trainSize, options.spec.testSize);
      const picked = await backendFor(options.backend, options.threads);
      backend = picked.choice.backend;
      const log: string[] = [];
      run = prepareRun({ spec: options.spec, data, backend: picked.choice, onLog: (line) => log.push(line.trim()), onBatch: (...a) => hooks.main(...a) });
      if (options.twin) {
        const dt = { ...options.spec.dt, dist: "constant" };
        twin = prepareRun({ spec: { ...options.spec, dt }, data, backend: picked.choice, onBatch: (...a) => hooks.twin(...a) });
      }
      current = run;
      emit({
        type: "ready",
        backend: backend.name,
        reason: picked.choice.reason,
        threads: picked.threads,
        source: run.data.source,
        trainExamples: run.data.train.count,
        validationExamples: run.data.validation?.count ?? 0,
        testExamples: run.data.test.count,
        warnings: run.record.warnings,
        log: log.join("\n"),
      });
      emit(fieldsOf(run));
    } catch (e) {
      return errorOutcome(e);
    }
    const probe = probeOf(run);
    const steps: TraceStep[] = [];
    const observer = tracer(run, steps);
    const trace = (epoch: number, done: number) => {
      steps.length = 0;
      observer.estimate(probe.x, probe.labels);
      emit({ type: "trace", epoch, done, steps: steps.slice() });
    };
    let lastBatch = 0;
    let lastTrace = 0;
    let lastFields = performance.now();
    let stopped = false;
    /** After every minibatch: throttled events, and the pause / one-minibatch / stop of a shared control block. */
    const onBatch = (which: "main" | "twin"): BatchHook => (epoch, done, total, seconds) => {
      const now = performance.now();
      if (now - lastBatch >= BATCH_EVERY_MS || done === total) {
        lastBatch = now;
        emit({ type: "batch", run: which, epoch, done, total, samplesPerSecond: (done * run.spec.batch) / Math.max(seconds, 1e-9) });
      }
      if (which !== "main") return;
      if (now - lastTrace >= TRACE_EVERY_MS) {
        lastTrace = now;
        trace(epoch, done);
      }
      if (now - lastFields >= FIELDS_EVERY_MS) {
        lastFields = now;
        emit(fieldsOf(run));
      }
      if (ctrl === null) return;
      if (Atomics.load(ctrl, CTRL_STOP) !== 0) throw new StopRun();
      if (Atomics.load(ctrl, CTRL_PAUSED) !== 0) {
        if (Atomics.load(ctrl, CTRL_STEPS) > 0) Atomics.sub(ctrl, CTRL_STEPS, 1);
        if (Atomics.load(ctrl, CTRL_STEPS) > 0) return;
        trace(epoch, done);
        emit(fieldsOf(run));
        emit({ type: "paused", paused: true, epoch, done });
        // Asleep until "play", "one minibatch" or "reset" writes the block.
        while (Atomics.load(ctrl, CTRL_PAUSED) !== 0 && Atomics.load(ctrl, CTRL_STEPS) === 0 && Atomics.load(ctrl, CTRL_STOP) === 0) Atomics.wait(ctrl, CTRL_PAUSED, 1, 200);
        if (Atomics.load(ctrl, CTRL_STOP) !== 0) throw new StopRun();
        emit({ type: "paused", paused: false, epoch, done });
      }
    };
    hooks.main = onBatch("main");
    hooks.twin = onBatch("twin");
    const mainSession = run.session;
    const twinSession = twin?.session ?? null;
    let finalTest: number | null = null;
    let status: RunOutcome["status"] = "ok";
    let message: string | null = null;
    try {
      for (;;) {
        // Between epochs: let Comlink's messages in (pause, stop without a control block).
        await tick();
        while (soft.paused && !soft.stop && soft.steps === 0) await new Promise((r) => setTimeout(r, 50));
        if (soft.steps > 0) soft.steps--;
        if (soft.stop) {
          stopped = true;
          break;
        }
        const outcome = mainSession.next();
        if (outcome.status === "done") break;
        emit({ type: "epoch", run: "main", record: outcome.record });
        emit({ type: "model", epoch: outcome.record.epoch, bytes: modelOf(run) });
        emit(fieldsOf(run));
        trace(outcome.record.epoch, 0);
        if (outcome.status === "diverged") {
          status = "diverged";
          message = outcome.record.error;
          break;
        }
        finalTest = outcome.record.testAccuracy;
        if (twinSession) {
          const t = twinSession.next();
          if (t.status !== "done") emit({ type: "epoch", run: "twin", record: t.record });
        }
      }
    } catch (e) {
      if (e instanceof StopRun) stopped = true;
      else return { ...errorOutcome(e), epochs: run.session.epochsDone };
    }
    if (stopped) status = "stopped";
    return { status, message, parameter: null, finalTestAccuracy: status === "ok" ? finalTest : null, epochs: run.session.epochsDone };
  },

  /** Without a shared control block: pause / play / one more epoch / stop, acting between epochs. */
  control(what: "pause" | "play" | "step" | "stop"): void {
    if (what === "pause") soft.paused = true;
    else if (what === "play") soft.paused = false;
    else if (what === "step") soft.steps++;
    else soft.stop = true;
  },

  /** Reads a checkpoint (`hts train`'s model.safetensors) and evaluates it on the test split of `data`. */
  async importModel(bytes: Uint8Array, name: string, data: DataChoice, prefer: PageBackend): Promise<ImportedModel> {
    const ck = decodeCheckpoint(bytes, name);
    const rec = (ck.config ?? {}) as Record<string, unknown>;
    const sizes = (v: unknown) => (typeof v === "number" ? v : null);
    const split = await loadData(data, sizes(rec.trainSize), sizes(rec.testSize));
    const { choice } = await backendFor(prefer, 1);
    const network = networkFromSnapshot(choice.backend, ck.snapshot);
    const transform = checkInputTransform(rec.inputTransform ?? { mode: "raw", mean: [], sd: [], scale: 1 }, split.test.dim);
    const str = (k: string, d: string) => (typeof rec[k] === "string" ? (rec[k] as string) : d);
    const evaluator = createEvaluator({
      network,
      energy: createEnergy(str("energy", "hopfield"), str("activation", "hard-sigmoid") as "hard-sigmoid"),
      cost: createCost(str("cost", "mse")),
      config: { t1: typeof rec.t1 === "number" ? rec.t1 : 100, dynamics: str("dynamics", "leaky") as "leaky", order: str("order", "sync") as "sync", tolerance: typeof rec.tolerance === "number" ? rec.tolerance : 0 },
    });
    const r = evaluator.evaluate(applyInputTransform(split.test, transform), { batch: 256 });
    return { sizes: ck.snapshot.sizes, testAccuracy: r.accuracy, examples: r.examples, source: split.source, config: rec };
  },

  /** The current run's trained network as checkpoint bytes (between epochs). */
  model(): Uint8Array | null {
    return current ? modelOf(current) : null;
  },
};

class StopRun extends Error {}
type BatchHook = (epoch: number, done: number, total: number, seconds: number) => void;

export type TrainApi = typeof api;
Comlink.expose(api);
