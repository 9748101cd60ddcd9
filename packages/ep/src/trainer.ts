import type { Rng } from "@hts/distributions";
import { allocParamGradients, type BoundEnergy, type Cost, type Energy, type NetworkParams, type ParamGradients } from "@hts/energy";
import type { FloatArray, Matrix } from "@hts/kernels";
import { checkCombination } from "./combination.js";
import { EpError, invalid } from "./errors.js";
import { checkComponents, checkData, checkInferenceConfig, type EvalStats, type InferenceSlot, inferenceCore, type LabeledData, type RelaxationStep } from "./evaluate.js";
import type { Network } from "./network.js";
import { createOptimizer, type Optimizer, type OptimizerConfig } from "./optimizer.js";
import type { Dynamics, Order } from "./relaxation.js";

/** The nudging variants of SPEC section 4. */
export const NUDGES = ["one-sided", "random-sign", "symmetric"] as const;
/** A nudging variant's name. */
export type Nudge = (typeof NUDGES)[number];

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
  /** Stop the free phase early when its dt-free residual is below this (0: never). */
  readonly tolerance?: number;
  readonly optimizer: OptimizerConfig;
  /** Layer order within a step (default `sync`). */
  readonly order?: Order;
  /**
   * Persistent states: each training example starts its free phase from its own last free
   * state (zeros the first time) instead of s = 0 (default false). Evaluation always
   * starts from s = 0.
   */
  readonly persistent?: boolean;
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
  /**
   * Observes the relaxation step by step (for plots and stability analyses): called after
   * every step of every phase of training, evaluation and prediction. Off the hot path
   * when absent; each getter of the step reads back.
   */
  readonly onStep?: (step: RelaxationStep) => void;
}

/** What one training minibatch did. */
export interface BatchResult {
  /** Predicted class per example, from the free fixed point. */
  readonly predictions: Int32Array;
  /** Examples predicted correctly. */
  readonly correct: number;
  /** Mean cost at the free fixed point. */
  readonly cost: number;
  /** Free-phase steps used, the final dt-free residual and the size of the last step. */
  readonly freeSteps: number;
  readonly freeResidual: number;
  readonly freeStepSize: number;
  /** The signed beta used for the nudged phase. */
  readonly beta: number;
}

/**
 * The EP gradient estimate of one minibatch, not applied, read back to the host in the
 * parameters' layout (W_l n_{l-1} x n_l row-major, b_l; the read-out's W_out n_L x classes
 * and b_out). The optimizer would descend along it: theta <- theta - lr g.
 */
export interface Estimate extends BatchResult {
  readonly W: readonly FloatArray[];
  readonly b: readonly FloatArray[];
  readonly readout: { readonly W: FloatArray; readonly b: FloatArray } | null;
}

/**
 * Aggregates of one epoch of training: the fields of {@link EvalStats}, with the accuracy of
 * the free-phase predictions made while training (running: the weights change during the
 * epoch) and the means taken over minibatches.
 */
export interface EpochStats extends EvalStats {}

/** Two-phase Equilibrium Propagation on one network. */
export interface Trainer {
  readonly network: Network;
  readonly config: TrainerConfig;
  /** Minibatches trained so far. */
  readonly minibatches: number;
  /** The optimizer (its learning rates can be changed between epochs). */
  readonly optimizer: Optimizer;
  /**
   * Trains on one minibatch: x is B x n_0 row-major, labels B class indices; `ids` (the
   * examples' indices in their data set) are needed with persistent states.
   */
  trainBatch(x: Float32Array, labels: ArrayLike<number>, ids?: ArrayLike<number>): BatchResult;
  /** The EP gradient estimate of one minibatch, without applying it (nothing changes but the nudge generator and persistent states). */
  estimate(x: Float32Array, labels: ArrayLike<number>, ids?: ArrayLike<number>): Estimate;
  /** The persistent free states (examples x sum n_l, row-major by example, layers 1..L in order), or null when off. */
  persistentStates(): Float32Array | null;
  /** Restores persistent free states saved by {@link Trainer.persistentStates}. */
  loadPersistentStates(states: Float32Array): void;
  /** One pass over `data` in the order `order` (a permutation; the last partial minibatch is dropped). */
  trainEpoch(data: LabeledData, order: ArrayLike<number>, onBatch?: (done: number, total: number) => void): EpochStats;
  /** Free-phase predictions on `data` (batches of `batch`, default 1000). */
  evaluate(data: LabeledData, options?: { batch?: number }): EvalStats;
  /** Free-phase class predictions for `count` rows of x. */
  predict(x: Float32Array, count: number): Int32Array;
}

/**
 * `scale` (dE/dtheta(plus) - dE/dtheta(minus)) into `out`: in one call where the energy
 * offers it (fewer products), else as two parameter gradients.
 */
function difference(bound: BoundEnergy, plus: readonly Matrix[], minus: readonly Matrix[], out: ParamGradients, scale: number): void {
  if (bound.paramGradientDifference) {
    bound.paramGradientDifference(plus, minus, out, { scale });
    return;
  }
  bound.paramGradient(plus, out, { scale });
  bound.paramGradient(minus, out, { scale: -scale, accumulate: true });
}

function checkConfig(c: TrainerConfig): void {
  const w = "createTrainer";
  if (typeof c !== "object" || c === null) invalid(w, "config", c, "an object with t1, t2, beta, nudge, dynamics, batch and optimizer");
  if (typeof c.optimizer !== "object" || c.optimizer === null) invalid(w, "config.optimizer", c.optimizer, "an object { name, lr } (e.g. { name: \"sgd\", lr: [0.1, 0.05] })");
  const posInt = (name: string, v: unknown, min: number) => {
    if (!Number.isInteger(v) || (v as number) < min) invalid(w, name, v, `an integer >= ${min}`);
  };
  checkInferenceConfig(w, c);
  posInt("t2", c.t2, 1);
  posInt("batch", c.batch, 1);
  if (typeof c.beta !== "number" || !Number.isFinite(c.beta) || c.beta <= 0) invalid(w, "beta", c.beta, "a finite number > 0");
  if (!NUDGES.includes(c.nudge)) invalid(w, "nudge", c.nudge, NUDGES.join(" | "));
  if (c.persistent !== undefined && typeof c.persistent !== "boolean") invalid(w, "persistent", c.persistent, "a boolean");
}

/**
 * Creates a trainer. Per minibatch: free phase (T1 steps, beta = 0, from s = 0 or the
 * example's persistent state), nudged phase (T2 steps from the free fixed point with +beta,
 * a random sign, or both +beta and -beta for `symmetric`), then the EP estimate
 *   g = (dE/dtheta(s^beta) - dE/dtheta(s^0)) / beta   (symmetric: (s^beta, s^-beta), 2 beta)
 * applied by the optimizer; a read-out's weights get dC/dtheta at s^beta (symmetric: the
 * mean over s^beta and s^-beta), the same estimate for a parameter that only the cost
 * reads. The estimate is written once, through the energy's and the cost's parameter
 * gradients, so any {@link Energy} trains without changes here.
 */
export function createTrainer(options: CreateTrainerOptions): Trainer {
  checkComponents("createTrainer", options);
  const { network, energy, cost, config } = options;
  const be = network.backend;
  const sizes = network.sizes;
  checkConfig(config);
  checkCombination(energy, cost, config.dynamics, network);
  if (config.nudge === "random-sign" && options.nudgeRng === undefined) {
    invalid("createTrainer", "nudgeRng", undefined, "an Rng for random-sign nudging");
  }
  const L = sizes.length - 1;
  const classes = network.classes;
  const readout = network.readout;
  // The optimizer sees the read-out as one more weight layer (n_L x classes).
  const paramSizes = readout ? [...sizes, classes] : [...sizes];
  const allParams: NetworkParams = readout
    ? { sizes: paramSizes, W: [...network.params.W, readout.W], b: [...network.params.b, readout.b] }
    : network.params;
  const optimizer: Optimizer = createOptimizer(be, paramSizes, config.optimizer);
  const grads: ParamGradients = allocParamGradients(be, paramSizes);
  const energyGrads: ParamGradients = { W: grads.W.slice(0, L), b: grads.b.slice(0, L) };
  const readoutGrads = readout ? { W: grads.W[L] as Matrix, b: grads.b[L] as Matrix } : null;
  const core = inferenceCore(options);
  const { slot, upload, observe, gather } = core;
  const n0 = sizes[0] as number;
  const persistent = config.persistent ?? false;
  const width = sizes.slice(1).reduce((a, n) => a + n, 0);
  let store: Float32Array | null = persistent ? new Float32Array(0) : null;

  let minibatches = options.minibatches ?? 0;

  /** Grows the persistent store to hold example `id`. */
  const reserve = (id: number) => {
    const st = store as Float32Array;
    if ((id + 1) * width <= st.length) return;
    const grown = new Float32Array(Math.max((id + 1) * width, 2 * st.length));
    grown.set(st);
    store = grown;
  };

  /** Starts the free phase: from 0, or from each example's persistent state. */
  const start = (s: InferenceSlot, ids: ArrayLike<number> | null, count: number) => {
    if (store === null || ids === null) {
      s.relaxer.reset();
      return;
    }
    let offset = 0;
    for (let l = 0; l < L; l++) {
      const n = sizes[l + 1] as number;
      const host = s.layerHost[l] as Float32Array;
      for (let i = 0; i < count; i++) {
        const id = ids[i] as number;
        reserve(id);
        host.set((store as Float32Array).subarray(id * width + offset, id * width + offset + n), i * n);
      }
      be.write(s.free[l] as Matrix, host);
      offset += n;
    }
    s.relaxer.load(s.free);
  };

  /** Keeps each example's free state for its next visit. */
  const keep = (s: InferenceSlot, ids: ArrayLike<number>, count: number) => {
    let offset = 0;
    for (let l = 0; l < L; l++) {
      const n = sizes[l + 1] as number;
      const host = be.read(s.free[l] as Matrix);
      for (let i = 0; i < count; i++) {
        const id = ids[i] as number;
        (store as Float32Array).set(host.subarray(i * n, (i + 1) * n), id * width + offset);
      }
      offset += n;
    }
  };

  const checkParams = () => {
    for (let l = 1; l <= paramSizes.length - 1; l++) {
      const isReadout = readout !== null && l === L + 1;
      for (const [kind, m] of [
        ["W", allParams.W[l - 1] as Matrix],
        ["b", allParams.b[l - 1] as Matrix],
      ] as const) {
        const i = be.findNonFinite(m);
        if (i >= 0) {
          const neuron = i % m.cols;
          const from = Math.floor(i / m.cols);
          const value = be.read(m)[i] as number;
          const name = isReadout ? `${kind}out` : `${kind}${l}`;
          const what =
            kind === "W"
              ? `${name}[${from}, ${neuron}] (from neuron ${from} of layer ${l - 1} to ${isReadout ? `class ${neuron}` : `neuron ${neuron} of layer ${l}`})`
              : `${name}[${neuron}]`;
          throw new EpError(
            "HTS_NON_FINITE_PARAMETER",
            `non-finite parameter after the update of minibatch ${minibatches}: ${what} is ${value} (the run diverged; lower the learning rates or beta)`,
            { location: { phase: "update", step: minibatches, layer: l, neuron, index: from, value } },
          );
        }
      }
    }
  };

  const checkBatch = (where: string, x: Float32Array, labels: ArrayLike<number>, ids: ArrayLike<number> | undefined) => {
    const B = config.batch;
    if (x.length !== B * n0) invalid(where, "x", `${x.length} values`, `${B} x ${n0} = ${B * n0} values`);
    if (labels.length !== B) invalid(where, "labels", `${labels.length} labels`, `${B} labels`);
    for (let i = 0; i < B; i++) {
      const c = labels[i] as number;
      if (!Number.isInteger(c) || c < 0 || c >= classes) invalid(where, `labels[${i}]`, c, `an integer in [0, ${classes - 1}]`);
    }
    if (persistent && ids === undefined) invalid(where, "ids", ids, "the examples' indices (persistent states are on)");
    if (ids !== undefined) {
      if (ids.length !== B) invalid(where, "ids", `${ids.length} ids`, `${B} ids`);
      for (let i = 0; i < B; i++) {
        const id = ids[i] as number;
        if (!Number.isInteger(id) || id < 0) invalid(where, `ids[${i}]`, id, "an integer >= 0");
      }
    }
  };

  /** Both phases and the estimate into `grads`; nothing is applied. */
  const phases = (x: Float32Array, labels: ArrayLike<number>, ids: ArrayLike<number> | undefined): BatchResult => {
    const B = config.batch;
    const s = slot(B);
    upload(s, x, labels, B);
    const free = core.freePhase(s, () => start(s, ids ?? null, B));
    if (store !== null && ids !== undefined) keep(s, ids, B);
    const top = s.free[L - 1] as Matrix;
    const predictions = be.argmaxRows(s.cost.scores(top));
    let correct = 0;
    for (let i = 0; i < B; i++) if (predictions[i] === labels[i]) correct++;
    const freeCost = s.cost.value(top, s.y);

    const restartFromFree = () => s.relaxer.load(s.free);
    let beta = config.beta;
    if (config.nudge === "random-sign" && (options.nudgeRng as Rng).uniform() < 0.5) beta = -beta;
    s.relaxer.load(s.free);
    const onNudged = observe(s, "nudged", beta);
    s.relaxer.relax({ phase: "nudged", steps: config.t2, beta, residual: false, ...(onNudged ? { onStep: onNudged } : {}) }, restartFromFree);
    const nudgedTop = s.relaxer.state[L - 1] as Matrix;
    if (config.nudge === "symmetric") {
      s.relaxer.save(s.extra);
      // Read-out: (dC/dtheta(s^beta) + dC/dtheta(s^-beta)) / 2, the first half now.
      if (readoutGrads) s.cost.paramGradient?.(s.extra[L - 1] as Matrix, s.y, readoutGrads, { scale: 0.5 });
      s.relaxer.load(s.free);
      const onNegative = observe(s, "nudged-negative", -beta);
      s.relaxer.relax({ phase: "nudged-negative", steps: config.t2, beta: -beta, residual: false, ...(onNegative ? { onStep: onNegative } : {}) }, restartFromFree);
      if (readoutGrads) s.cost.paramGradient?.(s.relaxer.state[L - 1] as Matrix, s.y, readoutGrads, { scale: 0.5, accumulate: true });
      // g = (dE/dtheta(s^beta) - dE/dtheta(s^-beta)) / (2 beta)
      difference(s.bound, s.extra, s.relaxer.state, energyGrads, 1 / (2 * beta));
    } else {
      // g = (dE/dtheta(s^beta) - dE/dtheta(s^0)) / beta; read-out: dC/dtheta(s^beta)
      if (readoutGrads) s.cost.paramGradient?.(nudgedTop, s.y, readoutGrads);
      difference(s.bound, s.relaxer.state, s.free, energyGrads, 1 / beta);
    }
    return { predictions, correct, cost: freeCost, freeSteps: free.steps, freeResidual: free.residual, freeStepSize: free.stepSize, beta };
  };

  const trainBatch = (x: Float32Array, labels: ArrayLike<number>, ids?: ArrayLike<number>): BatchResult => {
    checkBatch("trainBatch", x, labels, ids);
    const r = phases(x, labels, ids);
    optimizer.step(allParams, grads);
    minibatches += 1;
    checkParams();
    return r;
  };

  return {
    network,
    config,
    get minibatches() {
      return minibatches;
    },
    optimizer,
    trainBatch,
    estimate(x, labels, ids) {
      checkBatch("estimate", x, labels, ids);
      const r = phases(x, labels, ids);
      return {
        ...r,
        W: energyGrads.W.map((m) => be.read(m)),
        b: energyGrads.b.map((m) => be.read(m)),
        readout: readoutGrads ? { W: be.read(readoutGrads.W), b: be.read(readoutGrads.b) } : null,
      };
    },
    persistentStates() {
      return store === null ? null : store.slice();
    },
    loadPersistentStates(states) {
      if (store === null) invalid("loadPersistentStates", "persistent", false, "true (the trainer keeps no persistent states)");
      if (!(states instanceof Float32Array) || states.length % width !== 0) {
        invalid("loadPersistentStates", "states", states?.length, `a Float32Array of examples x ${width} values`);
      }
      store = states.slice();
    },
    trainEpoch(data, order, onBatch) {
      checkData("trainEpoch", data, n0);
      if (order === null || typeof order !== "object" || typeof order.length !== "number") {
        invalid("trainEpoch", "order", order, "a list of example indices (e.g. Uint32Array.from({ length: data.count }, (_, i) => i))");
      }
      if (order.length > data.count) invalid("trainEpoch", "order", `${order.length} indices`, `at most ${data.count}`);
      for (let i = 0; i < order.length; i++) {
        const v = order[i] as number;
        if (!Number.isInteger(v) || v < 0 || v >= data.count) invalid("trainEpoch", `order[${i}]`, v, `an integer in [0, ${data.count - 1}] (an example of data)`);
      }
      const B = config.batch;
      const total = Math.floor(order.length / B);
      const s = slot(B);
      const labels = new Uint8Array(B);
      const ids = new Uint32Array(B);
      if (store !== null) reserve(data.count - 1);
      let correct = 0;
      let costSum = 0;
      let resSum = 0;
      let stepSizeSum = 0;
      let stepSum = 0;
      for (let k = 0; k < total; k++) {
        gather(data, order, k * B, B, s, labels, ids);
        const r = trainBatch(s.xHost, labels, ids);
        correct += r.correct;
        costSum += r.cost;
        resSum += r.freeResidual;
        stepSizeSum += r.freeStepSize;
        stepSum += r.freeSteps;
        onBatch?.(k + 1, total);
      }
      const n = total * B;
      return {
        examples: n,
        accuracy: n ? correct / n : Number.NaN,
        cost: total ? costSum / total : Number.NaN,
        freeResidual: total ? resSum / total : Number.NaN,
        freeStepSize: total ? stepSizeSum / total : Number.NaN,
        freeSteps: total ? stepSum / total : Number.NaN,
      };
    },
    evaluate: core.evaluate,
    predict: core.predict,
  };
}
