import { applyInputTransform, type DataSplit, type Dataset, fitInputTransform, holdOut, type InputTransform } from "@hts/datasets";
import { clampWarning, createRng, type Distribution, restoreRng } from "@hts/distributions";
import { createCost } from "@hts/energy";
import {
  checkCombination,
  createNetwork,
  createSession,
  createTrainer,
  type DivergedRecord,
  type EpochRecord,
  type Network,
  type NetworkSnapshot,
  networkFromSnapshot,
  type Session,
  type SessionData,
  type Trainer,
  type TrainState,
} from "@hts/ep";
import type { Backend, BackendChoice } from "@hts/kernels";
import { refuse, StudyError } from "./errors.js";
import { runDistribution, runEnergy } from "./registry.js";
import { RUN_DEFAULTS, type RunSpec, validateRunSpec } from "./spec.js";

/**
 * What a run records about itself (a run folder's `config.json`, and the `config` of its
 * checkpoints): the RunSpec fields, then the backend used, the data and the input transform.
 */
export type RunRecord = RunSpec & {
  readonly backendUsed: string;
  readonly backendReason: string;
  readonly dataSource: string;
  readonly trainExamples: number;
  readonly validationExamples: number;
  readonly testExamples: number;
  readonly inputTransform: InputTransform;
  readonly dtDistribution: unknown;
  /** Settings that do not do what they say (a clamp that piles most dt at a bound; dt settings that an init checkpoint overrides), one line each. */
  readonly warnings: readonly string[];
};

/** A human-readable line about a run (the lines `hts train` prints); `error` for warnings and the stop on divergence (stderr). */
export type RunLog = (line: string, level: "info" | "error") => void;

/** Options of {@link prepareRun}. */
export interface PrepareRunOptions {
  readonly spec: RunSpec;
  /** The loaded data, before the hold-out and the input transform. */
  readonly data: DataSplit;
  /** The backend, with why it was chosen (`createBackend` of `@hts/kernels`, or {@link runBackend}). */
  readonly backend: BackendChoice | Backend;
  /** The network of `spec.init`, read by the caller (`loadCheckpoint(spec.init).snapshot`); required when `spec.init` is set. */
  readonly init?: NetworkSnapshot | null;
  /** With `init`: take the checkpoint's layer sizes (true), or insist that `spec.arch` equals them (false, default). */
  readonly adoptInitArch?: boolean;
  /** Continue from a saved state ({@link encodeTrainState} of `@hts/ep`; `config` is the run's record). `spec.epochs` and `spec.backend` win over the record's. */
  readonly resume?: TrainState | null;
  /** The human-readable lines (data, network). */
  readonly onLog?: RunLog;
  /** Called after every minibatch. */
  readonly onBatch?: (epoch: number, done: number, total: number, seconds: number) => void;
}

/** A run ready to train: the network, trainer and session, and its record. */
export interface PreparedRun {
  /** The effective run description (with `arch` from `init` when adopted). */
  readonly spec: RunSpec;
  readonly record: RunRecord;
  readonly backend: Backend;
  readonly network: Network;
  readonly trainer: Trainer;
  readonly session: Session;
  /** The transformed data the session trains and evaluates on. */
  readonly data: SessionData & { readonly source: string };
}

/** The end of a run: the `--json` summary of `hts train` (without `out`) and every epoch's record. */
export interface RunResult {
  readonly status: "ok" | "diverged";
  /** The divergence message, else null. */
  readonly error: string | null;
  /** Epochs completed (a diverged epoch does not count). */
  readonly epochs: number;
  /** The test accuracy after the last epoch (null when diverged). */
  readonly finalTestAccuracy: number | null;
  /** The highest test accuracy of any epoch (null when none was measured). */
  readonly bestTestAccuracy: number | null;
  readonly bestEpoch: number | null;
  readonly bestValidationAccuracy: number | null;
  readonly lastValidationAccuracy: number | null;
  /** Wall-clock seconds of {@link runPrepared}, or of the whole run when the caller times it. */
  readonly seconds: number;
  readonly config: RunRecord;
  /** The per-epoch records (metrics.jsonl), a diverged epoch's last. */
  readonly metrics: readonly (EpochRecord | DivergedRecord)[];
}

function fmtPct(x: number): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(2)}%` : "n/a";
}

/** The keys a record adds to a RunSpec; a resumed record is reduced to the spec for validation. */
const RECORD_KEYS = ["backendUsed", "backendReason", "dataSource", "trainExamples", "validationExamples", "testExamples", "inputTransform", "dtDistribution", "warnings"];

/**
 * The RunSpec of a run's record (`config.json`, or the `config` of a training state), with
 * the defaults of fields that earlier versions did not record.
 */
export function specFromRecord(record: unknown): RunSpec {
  const r = fixRecord(record);
  const spec = Object.fromEntries(Object.entries(r).filter(([k]) => !RECORD_KEYS.includes(k))) as unknown as RunSpec;
  validateRunSpec(spec);
  return spec;
}

function fixRecord(record: unknown): Record<string, unknown> {
  if (typeof record !== "object" || record === null) refuse("config", record, "a run record (config.json)", "the training state holds no run record");
  const r = { ...(record as Record<string, unknown>) };
  if (r.inputTransform === undefined) r.inputTransform = { mode: "raw", mean: [], sd: [], scale: 1 };
  r.valSize ??= 0;
  r.input ??= "raw";
  r.inputSd ??= 1;
  r.order ??= "sync";
  r.persistent ??= false;
  return r;
}

/**
 * Composes a run: the validation hold-out (a seeded draw from the fifth stream of the seed),
 * the input transform (fitted on the examples trained on), the network (new, from `init` or
 * from `resume`), the energy and cost, the soundness check, the trainer and the session,
 * exactly as `hts train` does. Bad settings throw a `StudyError` naming the field.
 */
export function prepareRun(options: PrepareRunOptions): PreparedRun {
  const resumed = options.resume ?? null;
  validateRunSpec(options.spec);
  const base: Record<string, unknown> = resumed ? { ...fixRecord(resumed.config), epochs: options.spec.epochs, backend: options.spec.backend } : (structuredClone(options.spec) as unknown as Record<string, unknown>);
  const cfg = (resumed ? specFromRecord(base) : base) as unknown as RunSpec;
  if (resumed && cfg.epochs < resumed.session.epochsDone) {
    refuse("epochs", cfg.epochs, `at least ${resumed.session.epochsDone}`, `the run has already trained ${resumed.session.epochsDone} epochs; ${cfg.epochs} is fewer`);
  }
  const log: RunLog = options.onLog ?? (() => {});
  const choice = "backend" in options.backend ? options.backend : { backend: options.backend, reason: "given" };
  const backend = choice.backend;
  const dist: Distribution | null = cfg.init ? null : runDistribution(cfg.dt);
  // Settings that do not do what they say: one line each on the log, and in the record.
  const warnings: string[] = resumed && Array.isArray(base.warnings) ? (base.warnings as string[]) : [];
  if (!resumed) {
    const piled = dist ? clampWarning(dist) : null;
    if (piled) warnings.push(`dt: ${piled}`);
    const dtSet = (["dist", "mean", "sd", "min", "max", "clamp", "nu"] as const).filter((k) => cfg.dt[k] !== RUN_DEFAULTS.dt[k]);
    if (cfg.init && dtSet.length > 0) warnings.push(`init: the dt of ${cfg.init} is used; the dt settings given (${dtSet.map((k) => `dt-${k === "dist" ? "dist" : k} ${cfg.dt[k]}`).join(", ")}) are ignored`);
  }
  for (const w of warnings) if (!resumed) log(`warning: ${w}\n`, "error");
  const loaded = options.data;

  let trainSet: Dataset = loaded.train;
  let valSet: Dataset | null = null;
  if (cfg.valSize > 0) {
    if (cfg.valSize >= loaded.train.count) {
      refuse("valSize", cfg.valSize, `fewer than ${loaded.train.count}`, `${cfg.valSize} leaves no training examples (the training split has ${loaded.train.count})`);
    }
    const valSeed = createRng(cfg.seed).jump().jump().jump().jump().int(0, 0xffffffff);
    ({ train: trainSet, validation: valSet } = holdOut(loaded.train, cfg.valSize, valSeed));
  }
  const inputTransform: InputTransform = resumed ? (base.inputTransform as InputTransform) : fitInputTransform(trainSet, cfg.input, { sd: cfg.inputSd });
  const data = {
    train: applyInputTransform(trainSet, inputTransform),
    validation: valSet ? applyInputTransform(valSet, inputTransform) : null,
    test: applyInputTransform(loaded.test, inputTransform),
    source: loaded.source,
  };
  if (data.train.count < cfg.batch) refuse("batch", cfg.batch, `at most ${data.train.count}`, `${cfg.batch} is more than the ${data.train.count} training examples`);
  log(`data: ${data.source}: ${data.train.count} train, ${data.validation ? `${data.validation.count} validation, ` : ""}${data.test.count} test; input ${cfg.input}\n`, "info");

  const readoutCost = createCost(cfg.cost).readout;
  const seedRng = createRng(cfg.seed);
  const dtRng = seedRng.jump();
  // On resume the session restores the order generator from the saved state.
  const orderRng = dtRng.jump();
  const nudgeRng = resumed?.session.nudgeRng ? restoreRng(resumed.session.nudgeRng) : dtRng.jump().jump();
  let network: Network;
  if (resumed) {
    network = networkFromSnapshot(backend, resumed.snapshot);
  } else if (cfg.init) {
    const snap = options.init;
    if (!snap) refuse("init", cfg.init, "a network snapshot in PrepareRunOptions.init", `${cfg.init}: the checkpoint's network was not given (load it with loadCheckpoint first)`);
    const ckArch = snap.readout ? [...snap.sizes, snap.readout.classes] : [...snap.sizes];
    if (options.adoptInitArch) cfg.arch = ckArch;
    if (ckArch.join(",") !== cfg.arch.join(",")) refuse("init", cfg.init, `a checkpoint of layer sizes ${cfg.arch.join(",")}`, `${cfg.init} has layer sizes ${ckArch.join(",")} but arch is ${cfg.arch.join(",")}`);
    if (Boolean(snap.readout) !== readoutCost) {
      refuse("init", cfg.init, "a checkpoint that fits the cost", `${cfg.init} ${snap.readout ? "has a read-out (Wout), which only cost ce uses" : "has no read-out (Wout), which cost ce needs"}`);
    }
    network = networkFromSnapshot(backend, snap);
    cfg.dt.fromInit = true;
  } else {
    const relaxed = readoutCost ? cfg.arch.slice(0, -1) : cfg.arch;
    network = createNetwork({
      backend,
      sizes: relaxed,
      dt: dist as Distribution,
      weightRng: seedRng,
      dtRng,
      ...(readoutCost ? { readoutClasses: cfg.arch[cfg.arch.length - 1] as number } : {}),
    });
  }
  if (cfg.lr.length !== cfg.arch.length - 1) {
    refuse("lr", cfg.lr, `${cfg.arch.length - 1} rate(s)`, `expected ${cfg.arch.length - 1} rate(s), one per weight layer of arch ${cfg.arch.join(",")}, got ${cfg.lr.length} (${cfg.lr.join(",")})`);
  }
  if (data.train.dim !== cfg.arch[0]) refuse("arch", cfg.arch, `an input layer of ${data.train.dim}`, `the input layer has ${cfg.arch[0]} neurons but ${cfg.dataset} examples have ${data.train.dim} pixels`);
  const energy = runEnergy(cfg.energy, cfg.activation);
  const cost = createCost(cfg.cost);
  try {
    checkCombination(energy, cost, cfg.dynamics, network);
  } catch (e) {
    refuse("dynamics", cfg.dynamics, "a sound combination of energy, activation, update rule and cost", (e as Error).message);
  }
  const trainer = createTrainer({
    network,
    energy,
    cost,
    nudgeRng,
    minibatches: resumed?.session.minibatches ?? 0,
    config: {
      t1: cfg.t1,
      t2: cfg.t2,
      beta: cfg.beta,
      nudge: cfg.nudge,
      dynamics: cfg.dynamics,
      order: cfg.order,
      persistent: cfg.persistent,
      batch: cfg.batch,
      tolerance: cfg.tolerance,
      optimizer: { name: cfg.optimizer, lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay },
    },
  });
  const allDt = network.dt.flatMap((m) => Array.from(backend.read(m)));
  const dtMean = allDt.reduce((s, v) => s + v, 0) / allDt.length;
  log(
    `network: ${cfg.arch.join("-")}, dt ${cfg.init ? "from checkpoint" : dist?.name}: mean ${dtMean.toFixed(4)}, min ${Math.min(...allDt).toFixed(4)}, max ${Math.max(...allDt).toFixed(4)}\n`,
    "info",
  );
  const recordBase = resumed ? base : cfg;
  const record = {
    ...recordBase,
    backendUsed: backend.name,
    backendReason: choice.reason,
    dataSource: data.source,
    trainExamples: data.train.count,
    validationExamples: data.validation?.count ?? 0,
    testExamples: data.test.count,
    inputTransform,
    dtDistribution: dist ? dist.toJSON() : resumed ? base.dtDistribution : null,
    warnings,
  } as RunRecord;
  const session = createSession({
    trainer,
    data,
    epochs: cfg.epochs,
    orderRng,
    nudgeRng,
    lrDecay: cfg.lrDecay,
    shuffle: cfg.shuffle,
    evalBatch: cfg.evalBatch,
    ...(resumed ? { resume: resumed.session } : {}),
    ...(options.onBatch ? { onBatch: options.onBatch } : {}),
  });
  return { spec: cfg, record, backend, network, trainer, session, data };
}

/** Callbacks of {@link runPrepared}. */
export interface RunCallbacks {
  /** The human-readable line of every epoch. */
  readonly onLog?: RunLog;
  /** After every epoch (ok or diverged), awaited before the next: write files, report progress. */
  readonly onEpoch?: (record: EpochRecord | DivergedRecord, run: PreparedRun) => void | Promise<void>;
  /** Checked between epochs (an epoch runs to its end): an aborted run throws the signal's reason. */
  readonly signal?: AbortSignal;
}

/** Runs a prepared run to its end (every epoch, or a divergence) and returns its result. */
export async function runPrepared(run: PreparedRun, callbacks: RunCallbacks = {}): Promise<RunResult> {
  const started = Date.now();
  const { session, data, spec } = run;
  const log: RunLog = callbacks.onLog ?? (() => {});
  let status: "ok" | "diverged" = "ok";
  let failure: string | null = null;
  for (;;) {
    if (callbacks.signal?.aborted) throw callbacks.signal.reason ?? new StudyError("HTS_STUDY_STATE", "the run was cancelled", { parameter: "signal", value: "aborted", expected: "not aborted" });
    const outcome = session.next();
    if (outcome.status === "done") break;
    if (outcome.status === "diverged") {
      status = "diverged";
      failure = outcome.record.error;
      await callbacks.onEpoch?.(outcome.record, run);
      break;
    }
    const line = outcome.record;
    const heldText = data.validation
      ? `validation ${fmtPct(line.validationAccuracy as number)}${line.testAccuracy !== null ? `  test ${fmtPct(line.testAccuracy)}` : ""}`
      : `test ${fmtPct(line.testAccuracy as number)}`;
    log(
      `epoch ${line.epoch}/${spec.epochs}  train ${fmtPct(line.trainAccuracy)} (free phase, running)  ${heldText}  cost ${line.trainCost.toFixed(4)}  residual ${line.freeResidual.toExponential(2)}  ${line.trainSeconds.toFixed(1)}s (${line.samplesPerSecond.toFixed(0)} samples/s) + eval ${line.evalSeconds.toFixed(1)}s\n`,
      "info",
    );
    await callbacks.onEpoch?.(line, run);
    // Let timers and signals through between epochs (an epoch itself runs without a pause).
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const metrics = session.metrics as unknown as readonly Record<string, unknown>[];
  const last = metrics[metrics.length - 1] as { testAccuracy?: number | null; validationAccuracy?: number } | undefined;
  const best = metrics.find((m) => m.best === true);
  const bestTest = Math.max(...metrics.map((m) => (typeof m.testAccuracy === "number" ? m.testAccuracy : Number.NEGATIVE_INFINITY)));
  return {
    status,
    error: failure,
    epochs: metrics.filter((m) => m.nonFinite === false).length,
    finalTestAccuracy: status === "ok" ? (last?.testAccuracy ?? null) : null,
    bestTestAccuracy: Number.isFinite(bestTest) ? bestTest : null,
    bestEpoch: best ? (best.epoch as number) : null,
    bestValidationAccuracy: best ? (best.validationAccuracy as number) : null,
    lastValidationAccuracy: typeof last?.validationAccuracy === "number" ? last.validationAccuracy : null,
    seconds: (Date.now() - started) / 1000,
    config: run.record,
    metrics: session.metrics,
  };
}
