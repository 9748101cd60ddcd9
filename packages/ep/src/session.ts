import { type Rng, type RngState, restoreRng } from "@hts/distributions";
import { invalid } from "./errors.js";
import type { EvalStats, LabeledData } from "./evaluate.js";
import type { OptimizerState } from "./optimizer.js";
import type { EpochStats, Trainer } from "./trainer.js";

/** The data of a training session: examples to train on, an optional validation set, and a test set. */
export interface SessionData {
  readonly train: LabeledData;
  /** Evaluated after every epoch when given; the test set is then evaluated once, after the last epoch. */
  readonly validation?: LabeledData | null;
  /** Evaluated after every epoch when there is no validation set, else after the last one. */
  readonly test: LabeledData;
}

/** One epoch's record, as `metrics.jsonl` of `hts train` holds it. */
export interface EpochRecord {
  readonly epoch: number;
  /** The learning rates used during the epoch. */
  readonly lr: readonly number[];
  readonly trainAccuracy: number;
  readonly trainCost: number;
  readonly validationAccuracy?: number;
  readonly validationCost?: number;
  /** Null in the epochs before the last one when there is a validation set. */
  readonly testAccuracy: number | null;
  readonly testCost: number | null;
  /** Mean over minibatches of the dt-free residual at the end of the free phase. */
  readonly freeResidual: number;
  /** Mean over minibatches of the size of the last free step. */
  readonly freeStepSize: number;
  readonly freeSteps: number;
  /** The residual on the evaluated set (validation, else test). */
  readonly testFreeResidual: number;
  readonly trainSeconds: number;
  readonly evalSeconds: number;
  readonly samplesPerSecond: number;
  readonly nonFinite: false;
  /** On the epoch of highest validation accuracy (the first of equals). */
  best?: true;
}

/** The record of an epoch that diverged (a non-finite state or parameter). */
export interface DivergedRecord {
  readonly epoch: number;
  readonly status: "diverged";
  readonly nonFinite: true;
  readonly error: string;
  readonly location: unknown;
}

/** Everything a session needs to continue where it stopped, at an epoch boundary (host values only). */
export interface SessionState {
  readonly epochsDone: number;
  readonly minibatches: number;
  readonly orderRng: RngState;
  readonly nudgeRng: RngState | null;
  readonly optimizer: OptimizerState;
  /** The trainer's persistent free states, or null when they are off. */
  readonly persistent: Float32Array | null;
  readonly metrics: readonly (EpochRecord | DivergedRecord)[];
}

/** Options of {@link createSession}. */
export interface SessionOptions {
  readonly trainer: Trainer;
  readonly data: SessionData;
  /** Epochs in all (the session stops after this one). */
  readonly epochs: number;
  /** Draws the seeded permutation of the training examples every epoch. */
  readonly orderRng: Rng;
  /** The trainer's generator of nudge signs, when it has one: saved with the state. */
  readonly nudgeRng?: Rng;
  /** Multiply every learning rate by this after each epoch (default 1). */
  readonly lrDecay?: number;
  /** A new permutation every epoch (default true); false: file order. */
  readonly shuffle?: boolean;
  /** Examples relaxed together during evaluation (default 256). */
  readonly evalBatch?: number;
  /** Continue from a state saved by {@link Session.state} (the trainer's network and optimizer must match it). */
  readonly resume?: SessionState;
  /** Called after every minibatch with the epoch, the minibatches done and the total. */
  readonly onBatch?: (epoch: number, done: number, total: number, seconds: number) => void;
}

/** What {@link Session.next} did. */
export type EpochOutcome =
  | { readonly status: "ok"; readonly record: EpochRecord }
  | { readonly status: "diverged"; readonly record: DivergedRecord; readonly error: Error }
  | { readonly status: "done" };

/**
 * A training session: epochs of {@link Trainer.trainEpoch} over a seeded permutation, the
 * learning-rate decay, evaluation (validation every epoch, test at the end; or test every
 * epoch), the stop on divergence, the per-epoch records and a resumable state. Platform
 * neutral; the caller decides where records and states go (files, a page, a queue).
 */
export interface Session {
  /** Epochs completed so far. */
  readonly epochsDone: number;
  /** The records so far (a diverged epoch's last). */
  readonly metrics: readonly (EpochRecord | DivergedRecord)[];
  /** Trains and evaluates one epoch; `done` once every epoch ran or after a divergence. */
  next(): EpochOutcome;
  /** The state to continue from, after the last completed epoch. */
  state(): SessionState;
}

/** A seeded Fisher-Yates permutation of `items` (a copy), drawing `rng.int(0, i)` from the end. */
export function shuffledOrder(items: Uint32Array, rng: { int(min: number, max: number): number }): Uint32Array {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    const t = out[i] as number;
    out[i] = out[j] as number;
    out[j] = t;
  }
  return out;
}

/** Marks the record of highest validation accuracy (the first of equals) with `best: true`. */
export function markBest(metrics: readonly (EpochRecord | DivergedRecord)[]): void {
  let bestAt = -1;
  metrics.forEach((m, i) => {
    if ("best" in m) delete (m as EpochRecord).best;
    const v = (m as EpochRecord).validationAccuracy;
    if (typeof v === "number" && (bestAt < 0 || v > ((metrics[bestAt] as EpochRecord).validationAccuracy as number))) bestAt = i;
  });
  if (bestAt >= 0) (metrics[bestAt] as EpochRecord).best = true;
}

/** Creates a training session (nothing runs until {@link Session.next}). */
export function createSession(options: SessionOptions): Session {
  const where = "createSession";
  if (options === null || typeof options !== "object") invalid(where, "options", options, "an object { trainer, data, epochs, orderRng }");
  if (typeof options.trainer?.trainEpoch !== "function") invalid(where, "trainer", options.trainer, "a Trainer (createTrainer)");
  if (options.data === null || typeof options.data !== "object" || options.data.train === undefined || options.data.test === undefined) {
    invalid(where, "data", options.data, "{ train, test, validation? } of labeled data");
  }
  if (typeof options.orderRng?.int !== "function") invalid(where, "orderRng", options.orderRng, "an Rng (createRng(seed) from @hts/distributions)");
  const { trainer, data } = options;
  if (!Number.isInteger(options.epochs) || options.epochs < 1) invalid(where, "epochs", options.epochs, "an integer >= 1");
  const lrDecay = options.lrDecay ?? 1;
  if (!(Number.isFinite(lrDecay) && lrDecay > 0)) invalid(where, "lrDecay", lrDecay, "a finite number > 0");
  const evalBatch = options.evalBatch ?? 256;
  if (!Number.isInteger(evalBatch) || evalBatch < 1) invalid(where, "evalBatch", evalBatch, "an integer >= 1");
  if (data === null || typeof data !== "object" || !data.train || !data.test) invalid(where, "data", data, "{ train, validation?, test }");
  const shuffle = options.shuffle ?? true;
  let orderRng = options.orderRng;
  const metrics: (EpochRecord | DivergedRecord)[] = [];
  let epochsDone = 0;
  let stopped = false;
  if (options.resume) {
    const r = options.resume;
    if (!Number.isInteger(r.epochsDone) || r.epochsDone < 0) invalid(where, "resume.epochsDone", r.epochsDone, "an integer >= 0");
    if (r.minibatches !== trainer.minibatches) invalid(where, "resume.minibatches", r.minibatches, `${trainer.minibatches} (the trainer's count; create it with minibatches from the state)`);
    // The nudge generator is the trainer's: restore it (restoreRng(state.nudgeRng)) before
    // creating the trainer.
    orderRng = restoreRng(r.orderRng);
    trainer.optimizer.loadState(r.optimizer);
    if (r.persistent) trainer.loadPersistentStates(r.persistent);
    metrics.push(...r.metrics);
    epochsDone = r.epochsDone;
  }
  const identity = Uint32Array.from({ length: data.train.count }, (_, i) => i);
  const validation = data.validation ?? null;

  return {
    get epochsDone() {
      return epochsDone;
    },
    metrics,
    next(): EpochOutcome {
      if (stopped || epochsDone >= options.epochs) return { status: "done" };
      const epoch = epochsDone + 1;
      const order = shuffle ? shuffledOrder(identity, orderRng) : identity;
      const lr = [...trainer.optimizer.lr];
      const t0 = performance.now();
      let train: EpochStats;
      let held: EvalStats;
      let test: EvalStats | null = null;
      let tTrain: number;
      try {
        train = trainer.trainEpoch(data.train, order, (done, total) => options.onBatch?.(epoch, done, total, (performance.now() - t0) / 1000));
        tTrain = (performance.now() - t0) / 1000;
        held = trainer.evaluate(validation ?? data.test, { batch: evalBatch });
        if (validation === null) test = held;
        else if (epoch === options.epochs) test = trainer.evaluate(data.test, { batch: evalBatch });
      } catch (e) {
        const err = e as Error & { code?: string; location?: unknown };
        if (err.code !== "HTS_NON_FINITE_STATE" && err.code !== "HTS_NON_FINITE_PARAMETER") throw e;
        stopped = true;
        const record: DivergedRecord = { epoch, status: "diverged", nonFinite: true, error: err.message, location: err.location ?? null };
        metrics.push(record);
        return { status: "diverged", record, error: err };
      }
      const tEval = (performance.now() - t0) / 1000 - tTrain;
      const record: EpochRecord = {
        epoch,
        lr,
        trainAccuracy: train.accuracy,
        trainCost: train.cost,
        ...(validation ? { validationAccuracy: held.accuracy, validationCost: held.cost } : {}),
        testAccuracy: test ? test.accuracy : null,
        testCost: test ? test.cost : null,
        freeResidual: train.freeResidual,
        freeStepSize: train.freeStepSize,
        freeSteps: train.freeSteps,
        testFreeResidual: held.freeResidual,
        trainSeconds: tTrain,
        evalSeconds: tEval,
        samplesPerSecond: train.examples / tTrain,
        nonFinite: false,
      };
      metrics.push(record);
      if (validation) markBest(metrics);
      if (lrDecay !== 1) trainer.optimizer.setLearningRates(trainer.optimizer.lr.map((r) => r * lrDecay));
      epochsDone = epoch;
      return { status: "ok", record };
    },
    state(): SessionState {
      return {
        epochsDone,
        minibatches: trainer.minibatches,
        orderRng: orderRng.getState(),
        nudgeRng: options.nudgeRng ? options.nudgeRng.getState() : null,
        optimizer: trainer.optimizer.saveState(),
        persistent: trainer.persistentStates(),
        metrics: metrics.map((m) => ({ ...m })),
      };
    },
  };
}
