import type { Rng } from "@hts/distributions";
import { allocParamGradients, allocState, type Cost, type Energy, type ParamGradients } from "@hts/energy";
import type { Matrix } from "@hts/kernels";
import { EpError, invalid } from "./errors.js";
import type { Network } from "./network.js";
import { createOptimizer, type Optimizer, type OptimizerConfig } from "./optimizer.js";
import { DYNAMICS, type Dynamics, Relaxer } from "./relaxation.js";

/** The nudging variants of SPEC section 4. */
export const NUDGES = ["one-sided", "random-sign", "symmetric"] as const;
/** A nudging variant's name. */
export type Nudge = (typeof NUDGES)[number];

/** Labeled examples: `count` rows of `dim` features (row-major) and a class label each. */
export interface LabeledData {
  readonly images: Float32Array;
  readonly labels: Uint8Array;
  readonly count: number;
  readonly dim: number;
}

/** Settings of the two-phase training. */
export interface TrainerConfig {
  /** Free-phase steps T1. */
  readonly t1: number;
  /** Nudged-phase steps T2. */
  readonly t2: number;
  /** Nudging strength beta > 0. */
  readonly beta: number;
  readonly nudge: Nudge;
  readonly dynamics: Dynamics;
  /** Minibatch size B. */
  readonly batch: number;
  /** Stop a phase early when the largest state change of a step is below this (0: never). */
  readonly tolerance?: number;
  readonly optimizer: OptimizerConfig;
}

/** Options of {@link createTrainer}. */
export interface CreateTrainerOptions {
  readonly network: Network;
  readonly energy: Energy;
  readonly cost: Cost;
  readonly config: TrainerConfig;
  /** Draws the sign of beta per minibatch for `random-sign` nudging. */
  readonly nudgeRng?: Rng;
  /** Minibatches already trained (when resuming from a checkpoint; default 0). */
  readonly minibatches?: number;
}

/** What one training minibatch did. */
export interface BatchResult {
  /** Predicted class per example, from the free fixed point. */
  readonly predictions: Int32Array;
  /** Examples predicted correctly. */
  readonly correct: number;
  /** Mean cost at the free fixed point. */
  readonly cost: number;
  /** Free-phase steps used and final residual. */
  readonly freeSteps: number;
  readonly freeResidual: number;
  /** The signed beta used for the nudged phase. */
  readonly beta: number;
}

/** Aggregates of one epoch of training. */
export interface EpochStats {
  readonly examples: number;
  /** Accuracy of the free-phase predictions made while training (running). */
  readonly accuracy: number;
  readonly cost: number;
  /** Mean over minibatches of the largest state change in the last free step. */
  readonly freeResidual: number;
  readonly freeSteps: number;
}

/** Result of {@link Trainer.evaluate}. */
export interface EvalStats {
  readonly examples: number;
  readonly accuracy: number;
  readonly cost: number;
  readonly freeResidual: number;
  readonly freeSteps: number;
}

/** Two-phase Equilibrium Propagation on one network. */
export interface Trainer {
  readonly network: Network;
  readonly config: TrainerConfig;
  /** Minibatches trained so far. */
  readonly minibatches: number;
  /** The optimizer (its learning rates can be changed between epochs). */
  readonly optimizer: Optimizer;
  /** Trains on one minibatch: x is B x n_0 row-major, labels B class indices. */
  trainBatch(x: Float32Array, labels: ArrayLike<number>): BatchResult;
  /** One pass over `data` in the order `order` (a permutation; the last partial minibatch is dropped). */
  trainEpoch(data: LabeledData, order: ArrayLike<number>, onBatch?: (done: number, total: number) => void): EpochStats;
  /** Free-phase predictions on `data` (batches of `batch`, default 1000). */
  evaluate(data: LabeledData, options?: { batch?: number }): EvalStats;
  /** Free-phase class predictions for `count` rows of x. */
  predict(x: Float32Array, count: number): Int32Array;
}

function checkConfig(c: TrainerConfig, sizes: readonly number[]): void {
  const w = "createTrainer";
  const posInt = (name: string, v: unknown, min: number) => {
    if (!Number.isInteger(v) || (v as number) < min) invalid(w, name, v, `an integer >= ${min}`);
  };
  posInt("t1", c.t1, 1);
  posInt("t2", c.t2, 1);
  posInt("batch", c.batch, 1);
  if (typeof c.beta !== "number" || !Number.isFinite(c.beta) || c.beta <= 0) invalid(w, "beta", c.beta, "a finite number > 0");
  if (!NUDGES.includes(c.nudge)) invalid(w, "nudge", c.nudge, NUDGES.join(" | "));
  if (!DYNAMICS.includes(c.dynamics)) invalid(w, "dynamics", c.dynamics, DYNAMICS.join(" | "));
  const tol = c.tolerance ?? 0;
  if (typeof tol !== "number" || !Number.isFinite(tol) || tol < 0) invalid(w, "tolerance", tol, "a finite number >= 0");
  if ((sizes[sizes.length - 1] as number) < 2) invalid(w, "sizes", sizes, "an output layer of at least 2 classes");
}

/**
 * Creates a trainer. Per minibatch: free phase (T1 steps, beta = 0, from s = 0), nudged
 * phase (T2 steps from the free fixed point with +beta, a random sign, or both +beta and
 * -beta for `symmetric`), then the EP estimate
 *   g = (dE/dtheta(s^beta) - dE/dtheta(s^0)) / beta   (symmetric: (s^beta, s^-beta), 2 beta)
 * applied by the optimizer. The estimate is written once, through the energy's parameter
 * gradient, so any {@link Energy} trains without changes here.
 */
export function createTrainer(options: CreateTrainerOptions): Trainer {
  const { network, energy, cost, config } = options;
  const be = network.backend;
  const sizes = network.sizes;
  checkConfig(config, sizes);
  if (config.nudge === "random-sign" && options.nudgeRng === undefined) {
    invalid("createTrainer", "nudgeRng", undefined, "an Rng for random-sign nudging");
  }
  const n0 = sizes[0] as number;
  const nL = sizes[sizes.length - 1] as number;
  const L = sizes.length - 1;
  const optimizer: Optimizer = createOptimizer(be, sizes, config.optimizer);
  const grads: ParamGradients = allocParamGradients(be, sizes);
  const tolerance = config.tolerance ?? 0;

  interface Slot {
    relaxer: Relaxer;
    bound: ReturnType<Energy["bind"]>;
    cost: ReturnType<Cost["bind"]>;
    x: Matrix;
    y: Matrix;
    free: Matrix[];
    extra: Matrix[];
    xHost: Float32Array;
    yHost: Float32Array;
  }
  const slots = new Map<number, Slot>();
  const slot = (batch: number): Slot => {
    let s = slots.get(batch);
    if (!s) {
      const bound = energy.bind(be, network.params, batch);
      const bcost = cost.bind(be, energy.activation, batch, nL);
      s = {
        relaxer: new Relaxer(be, bound, bcost, network.dt, config.dynamics, energy.activation, sizes),
        bound,
        cost: bcost,
        x: be.matrix(batch, n0),
        y: be.matrix(batch, nL),
        free: allocState(be, sizes, batch),
        extra: allocState(be, sizes, batch),
        xHost: new Float32Array(batch * n0),
        yHost: new Float32Array(batch * nL),
      };
      slots.set(batch, s);
    }
    return s;
  };

  let minibatches = options.minibatches ?? 0;

  const upload = (s: Slot, x: Float32Array, labels: ArrayLike<number> | null, count: number) => {
    be.write(s.x, x);
    if (labels) {
      s.yHost.fill(0);
      for (let i = 0; i < count; i++) s.yHost[i * nL + (labels[i] as number)] = 1;
      be.write(s.y, s.yHost);
    }
    s.bound.setInput(s.x);
    s.relaxer.setTarget(s.y);
  };

  const freePhase = (s: Slot) => {
    s.relaxer.reset();
    const r = s.relaxer.relax({ phase: "free", steps: config.t1, beta: 0, tolerance }, () => s.relaxer.reset());
    s.relaxer.save(s.free);
    return r;
  };

  const checkParams = () => {
    for (let l = 1; l <= L; l++) {
      for (const [kind, m] of [
        ["W", network.params.W[l - 1] as Matrix],
        ["b", network.params.b[l - 1] as Matrix],
      ] as const) {
        const i = be.findNonFinite(m);
        if (i >= 0) {
          const neuron = i % m.cols;
          const from = Math.floor(i / m.cols);
          const value = be.read(m)[i] as number;
          const what = kind === "W" ? `W${l}[${from}, ${neuron}] (from neuron ${from} of layer ${l - 1} to neuron ${neuron} of layer ${l})` : `b${l}[${neuron}]`;
          throw new EpError(
            "HTS_NON_FINITE_PARAMETER",
            `non-finite parameter after the update of minibatch ${minibatches}: ${what} is ${value} (the run diverged; lower the learning rates or beta)`,
            { location: { phase: "update", step: minibatches, layer: l, neuron, index: from, value } },
          );
        }
      }
    }
  };

  const trainBatch = (x: Float32Array, labels: ArrayLike<number>): BatchResult => {
    const B = config.batch;
    if (x.length !== B * n0) invalid("trainBatch", "x", `${x.length} values`, `${B} x ${n0} = ${B * n0} values`);
    if (labels.length !== B) invalid("trainBatch", "labels", `${labels.length} labels`, `${B} labels`);
    for (let i = 0; i < B; i++) {
      const c = labels[i] as number;
      if (!Number.isInteger(c) || c < 0 || c >= nL) invalid("trainBatch", `labels[${i}]`, c, `an integer in [0, ${nL - 1}]`);
    }
    const s = slot(B);
    upload(s, x, labels, B);
    const free = freePhase(s);
    const predictions = be.argmaxRows(s.free[L - 1] as Matrix);
    let correct = 0;
    for (let i = 0; i < B; i++) if (predictions[i] === labels[i]) correct++;
    const freeCost = s.cost.value(s.free[L - 1] as Matrix, s.y);

    const restartFromFree = () => s.relaxer.load(s.free);
    let beta = config.beta;
    if (config.nudge === "random-sign" && (options.nudgeRng as Rng).uniform() < 0.5) beta = -beta;
    s.relaxer.load(s.free);
    s.relaxer.relax({ phase: "nudged", steps: config.t2, beta, tolerance: 0 }, restartFromFree);
    if (config.nudge === "symmetric") {
      s.relaxer.save(s.extra);
      s.relaxer.load(s.free);
      s.relaxer.relax({ phase: "nudged-negative", steps: config.t2, beta: -beta, tolerance: 0 }, restartFromFree);
      // g = (dE/dtheta(s^beta) - dE/dtheta(s^-beta)) / (2 beta)
      s.bound.paramGradient(s.extra, grads, { scale: 1 / (2 * beta) });
      s.bound.paramGradient(s.relaxer.state, grads, { scale: -1 / (2 * beta), accumulate: true });
    } else {
      // g = (dE/dtheta(s^beta) - dE/dtheta(s^0)) / beta
      s.bound.paramGradient(s.relaxer.state, grads, { scale: 1 / beta });
      s.bound.paramGradient(s.free, grads, { scale: -1 / beta, accumulate: true });
    }
    optimizer.step(network.params, grads);
    minibatches += 1;
    checkParams();
    return { predictions, correct, cost: freeCost, freeSteps: free.steps, freeResidual: free.residual, beta };
  };

  const gather = (data: LabeledData, order: ArrayLike<number> | null, from: number, count: number, s: Slot, labels: Uint8Array) => {
    for (let i = 0; i < count; i++) {
      const idx = order ? (order[from + i] as number) : from + i;
      s.xHost.set(data.images.subarray(idx * n0, (idx + 1) * n0), i * n0);
      labels[i] = data.labels[idx] as number;
    }
  };

  const checkData = (where: string, data: LabeledData) => {
    if (data.dim !== n0) invalid(where, "data.dim", data.dim, `${n0} (the input layer size)`);
    if (data.images.length !== data.count * data.dim) invalid(where, "data.images", `${data.images.length} values`, `${data.count * data.dim}`);
  };

  return {
    network,
    config,
    get minibatches() {
      return minibatches;
    },
    optimizer,
    trainBatch,
    trainEpoch(data, order, onBatch) {
      checkData("trainEpoch", data);
      if (order.length > data.count) invalid("trainEpoch", "order", `${order.length} indices`, `at most ${data.count}`);
      const B = config.batch;
      const total = Math.floor(order.length / B);
      const s = slot(B);
      const labels = new Uint8Array(B);
      let correct = 0;
      let costSum = 0;
      let resSum = 0;
      let stepSum = 0;
      for (let k = 0; k < total; k++) {
        gather(data, order, k * B, B, s, labels);
        const r = trainBatch(s.xHost, labels);
        correct += r.correct;
        costSum += r.cost;
        resSum += r.freeResidual;
        stepSum += r.freeSteps;
        onBatch?.(k + 1, total);
      }
      const n = total * B;
      return {
        examples: n,
        accuracy: n ? correct / n : Number.NaN,
        cost: total ? costSum / total : Number.NaN,
        freeResidual: total ? resSum / total : Number.NaN,
        freeSteps: total ? stepSum / total : Number.NaN,
      };
    },
    evaluate(data, evalOptions = {}) {
      checkData("evaluate", data);
      const EB = Math.min(evalOptions.batch ?? 1000, Math.max(1, data.count));
      if (!Number.isInteger(EB) || EB < 1) invalid("evaluate", "batch", EB, "a positive integer");
      const labels = new Uint8Array(EB);
      let correct = 0;
      let costSum = 0;
      let resSum = 0;
      let stepSum = 0;
      let batches = 0;
      for (let from = 0; from < data.count; from += EB) {
        const count = Math.min(EB, data.count - from);
        // A last partial batch gets its own (once allocated) work space.
        const s = slot(count);
        gather(data, null, from, count, s, labels);
        upload(s, s.xHost, labels, count);
        const r = freePhase(s);
        const pred = be.argmaxRows(s.free[L - 1] as Matrix);
        for (let i = 0; i < count; i++) if (pred[i] === labels[i]) correct++;
        costSum += s.cost.value(s.free[L - 1] as Matrix, s.y) * count;
        resSum += r.residual;
        stepSum += r.steps;
        batches++;
      }
      return {
        examples: data.count,
        accuracy: data.count ? correct / data.count : Number.NaN,
        cost: data.count ? costSum / data.count : Number.NaN,
        freeResidual: batches ? resSum / batches : Number.NaN,
        freeSteps: batches ? stepSum / batches : Number.NaN,
      };
    },
    predict(x, count) {
      if (!Number.isInteger(count) || count < 1 || x.length !== count * n0) {
        invalid("predict", "x", `${x.length} values for ${count} rows`, `${count} x ${n0} values`);
      }
      const s = slot(count);
      upload(s, x, null, count);
      freePhase(s);
      return be.argmaxRows(s.free[L - 1] as Matrix);
    },
  };
}
