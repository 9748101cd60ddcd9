import { allocState, type Cost, type Energy } from "@hts/energy";
import type { Matrix } from "@hts/kernels";
import { checkCombination } from "./combination.js";
import { invalid, requireComponent } from "./errors.js";
import type { Network } from "./network.js";
import { DYNAMICS, type Dynamics, ORDERS, type Order, Relaxer } from "./relaxation.js";

/** Labeled examples: `count` rows of `dim` features (row-major) and a class label each. */
export interface LabeledData {
  readonly images: Float32Array;
  readonly labels: Uint8Array;
  readonly count: number;
  readonly dim: number;
}

/** One relaxation step, as an `onStep` observer sees it. */
export interface RelaxationStep {
  /** `free`, `nudged` or `nudged-negative`. */
  readonly phase: string;
  /** 1-based step within the phase. */
  readonly step: number;
  /** The signed beta of the phase (0 for the free phase). */
  readonly beta: number;
  /** The dt-free residual of the state (reads back). */
  residual(): number;
  /** The energy E(s), batch mean (reads back). */
  energy(): number;
  /** The cost C at the state's top layer, batch mean (reads back). */
  cost(): number;
  /** The state s_1..s_L, read back to the host. */
  state(): Float64Array[];
}

/** Result of an evaluation: free-phase predictions on a labeled set. */
export interface EvalStats {
  readonly examples: number;
  readonly accuracy: number;
  /** Mean cost at the free fixed point. */
  readonly cost: number;
  /** Mean over batches of the dt-free residual at the end of the free phase. */
  readonly freeResidual: number;
  /** Mean over batches of the size of the last free step, max |s_t - s_{t-1}|. */
  readonly freeStepSize: number;
  readonly freeSteps: number;
}

/** The free-phase settings of inference. */
export interface InferenceConfig {
  /** Free-phase steps T1. */
  readonly t1: number;
  readonly dynamics: Dynamics;
  /** Layer order within a step (default `sync`). */
  readonly order?: Order;
  /** Stop the free phase early when its dt-free residual is below this (0, the default: never). */
  readonly tolerance?: number;
}

/** Options of {@link createEvaluator}. */
export interface CreateEvaluatorOptions {
  readonly network: Network;
  readonly energy: Energy;
  readonly cost: Cost;
  readonly config: InferenceConfig;
  /** Observes every free-phase step (phase `free`); off the hot path when absent. */
  readonly onStep?: ((step: RelaxationStep) => void) | undefined;
}

/**
 * Free-phase inference on a network: relax from s = 0 for T1 steps (beta = 0) and take the
 * argmax of the cost's scores (the output layer, or a read-out's logits). It reads the
 * network's parameters where they live, so it sees every later update of the same network.
 */
export interface Evaluator {
  readonly network: Network;
  readonly config: InferenceConfig;
  /** Accuracy, cost and free-phase convergence on `data`, in batches of `batch` (default 1000). */
  evaluate(data: LabeledData, options?: { readonly batch?: number }): EvalStats;
  /** Class predictions for `count` rows of x (count x n_0, row-major). */
  predict(x: Float32Array, count: number): Int32Array;
}

/** @internal The work space of one batch size. */
export interface InferenceSlot {
  readonly relaxer: Relaxer;
  readonly bound: ReturnType<Energy["bind"]>;
  readonly cost: ReturnType<Cost["bind"]>;
  readonly x: Matrix;
  readonly y: Matrix;
  readonly free: Matrix[];
  readonly extra: Matrix[];
  readonly xHost: Float32Array;
  readonly yHost: Float32Array;
  readonly layerHost: Float32Array[];
}

/** @internal Validates the free-phase settings (shared with createTrainer). */
export function checkInferenceConfig(where: string, c: InferenceConfig): void {
  if (typeof c !== "object" || c === null) invalid(where, "config", c, "an object with t1 and dynamics");
  if (!Number.isInteger(c.t1) || c.t1 < 1) invalid(where, "t1", c.t1, "an integer >= 1");
  if (!DYNAMICS.includes(c.dynamics)) invalid(where, "dynamics", c.dynamics, DYNAMICS.join(" | "));
  const tol = c.tolerance;
  if (tol !== undefined && (typeof tol !== "number" || !Number.isFinite(tol) || tol < 0)) invalid(where, "tolerance", tol, "a finite number >= 0 (or absent: 0)");
  if (c.order !== undefined && !ORDERS.includes(c.order)) invalid(where, "order", c.order, ORDERS.join(" | "));
}

/** @internal Refuses options without a network, an energy or a cost (a name instead of a component, say). */
export function checkComponents(where: string, options: { readonly network: Network; readonly energy: Energy; readonly cost: Cost }): void {
  requireComponent(where, "options", options, [], "an object { network, energy, cost, config }");
  requireComponent(where, "network", options.network, ["backend", "sizes", "params", "dt"], "a Network (createNetwork or networkFromSnapshot)");
  requireComponent(where, "energy", options.energy, ["bind", "activation"], 'an Energy (e.g. createEnergy("hopfield") or hopfieldEnergy() from @hts/energy)');
  requireComponent(where, "cost", options.cost, ["bind", "readout"], 'a Cost (e.g. createCost("mse") or squaredError() from @hts/energy)');
}

/** @internal Validates labeled data against the input layer size. */
export function checkData(where: string, data: LabeledData, n0: number): void {
  if (data === null || typeof data !== "object" || !(data.images instanceof Float32Array) || !(data.labels instanceof Uint8Array)) {
    invalid(where, "data", data === null || typeof data !== "object" ? data : "an object without Float32Array images and Uint8Array labels", "{ images: Float32Array, labels: Uint8Array, count, dim }");
  }
  if (data.labels.length !== data.count) invalid(where, "data.labels", `${data.labels.length} labels`, `${data.count} (data.count)`);
  if (data.dim !== n0) invalid(where, "data.dim", data.dim, `${n0} (the input layer size)`);
  if (data.images.length !== data.count * data.dim) invalid(where, "data.images", `${data.images.length} values`, `${data.count * data.dim}`);
}

/**
 * @internal The shared machinery of inference and training: per-batch-size work spaces,
 * upload of a batch, the free phase and the step observer.
 */
export function inferenceCore(options: CreateEvaluatorOptions) {
  const { network, energy, cost, config } = options;
  const be = network.backend;
  const sizes = network.sizes;
  const n0 = sizes[0] as number;
  const L = sizes.length - 1;
  const nTop = sizes[L] as number;
  const classes = network.classes;
  const readout = network.readout;
  const rate = energy.rate === undefined ? energy.activation : energy.rate;
  const tolerance = config.tolerance ?? 0;
  const slots = new Map<number, InferenceSlot>();

  const slot = (batch: number): InferenceSlot => {
    let s = slots.get(batch);
    if (!s) {
      const bound = energy.bind(be, network.params, batch);
      const bcost = cost.bind(be, { batch, units: nTop, classes, rate, ...(readout ? { readout } : {}) });
      s = {
        relaxer: new Relaxer({ backend: be, energy: bound, cost: bcost, dt: network.dt, dynamics: config.dynamics, activation: energy.activation, sizes, order: config.order ?? "sync" }),
        bound,
        cost: bcost,
        x: be.matrix(batch, n0),
        y: be.matrix(batch, classes),
        free: allocState(be, sizes, batch),
        extra: allocState(be, sizes, batch),
        xHost: new Float32Array(batch * n0),
        yHost: new Float32Array(batch * classes),
        layerHost: sizes.slice(1).map((n) => new Float32Array(batch * n)),
      };
      slots.set(batch, s);
    }
    return s;
  };

  const upload = (s: InferenceSlot, x: Float32Array, labels: ArrayLike<number> | null, count: number) => {
    be.write(s.x, x);
    if (labels) {
      s.yHost.fill(0);
      for (let i = 0; i < count; i++) s.yHost[i * classes + (labels[i] as number)] = 1;
      be.write(s.y, s.yHost);
    }
    s.bound.setInput(s.x);
    s.relaxer.setTarget(s.y);
  };

  /** The per-step observer of a phase, or undefined (the hot path). */
  const observe = (s: InferenceSlot, phase: string, beta: number): ((step: number) => void) | undefined => {
    const hook = options.onStep;
    if (!hook) return undefined;
    return (step) =>
      hook({
        phase,
        step,
        beta,
        residual: () => s.relaxer.residual(beta),
        energy: () => s.bound.value(s.relaxer.state),
        cost: () => s.cost.value(s.relaxer.state[L - 1] as Matrix, s.y),
        state: () => s.relaxer.state.map((m) => Float64Array.from(be.read(m))),
      });
  };

  /** The free phase from the state `start` sets (s = 0 unless given); the fixed point lands in s.free. */
  const freePhase = (s: InferenceSlot, start: () => void = () => s.relaxer.reset()) => {
    start();
    const onStep = observe(s, "free", 0);
    const r = s.relaxer.relax({ phase: "free", steps: config.t1, beta: 0, tolerance, ...(onStep ? { onStep } : {}) }, start);
    s.relaxer.save(s.free);
    return r;
  };

  /** Copies `count` examples (rows `order[from..]`, or `from..` without an order) into the slot's host buffers. */
  const gather = (data: LabeledData, order: ArrayLike<number> | null, from: number, count: number, s: InferenceSlot, labels: Uint8Array, ids: Uint32Array) => {
    for (let i = 0; i < count; i++) {
      const idx = order ? (order[from + i] as number) : from + i;
      s.xHost.set(data.images.subarray(idx * n0, (idx + 1) * n0), i * n0);
      labels[i] = data.labels[idx] as number;
      ids[i] = idx;
    }
  };

  const evaluate = (data: LabeledData, evalOptions: { readonly batch?: number } = {}): EvalStats => {
    checkData("evaluate", data, n0);
    const asked = evalOptions.batch ?? 1000;
    if (!Number.isInteger(asked) || asked < 1) invalid("evaluate", "batch", asked, "a positive integer");
    const EB = Math.min(asked, Math.max(1, data.count));
    const labels = new Uint8Array(EB);
    const ids = new Uint32Array(EB);
    let correct = 0;
    let costSum = 0;
    let resSum = 0;
    let stepSizeSum = 0;
    let stepSum = 0;
    let batches = 0;
    for (let from = 0; from < data.count; from += EB) {
      const count = Math.min(EB, data.count - from);
      // A last partial batch gets its own (once allocated) work space.
      const s = slot(count);
      gather(data, null, from, count, s, labels, ids);
      upload(s, s.xHost, labels, count);
      const r = freePhase(s);
      const top = s.free[L - 1] as Matrix;
      const pred = be.argmaxRows(s.cost.scores(top));
      for (let i = 0; i < count; i++) if (pred[i] === labels[i]) correct++;
      costSum += s.cost.value(top, s.y) * count;
      resSum += r.residual;
      stepSizeSum += r.stepSize;
      stepSum += r.steps;
      batches++;
    }
    return {
      examples: data.count,
      accuracy: data.count ? correct / data.count : Number.NaN,
      cost: data.count ? costSum / data.count : Number.NaN,
      freeResidual: batches ? resSum / batches : Number.NaN,
      freeStepSize: batches ? stepSizeSum / batches : Number.NaN,
      freeSteps: batches ? stepSum / batches : Number.NaN,
    };
  };

  const predict = (x: Float32Array, count: number): Int32Array => {
    if (!Number.isInteger(count) || count < 1 || !(x instanceof Float32Array) || x.length !== count * n0) {
      invalid("predict", "x", x instanceof Float32Array ? `${x.length} values for ${count} rows` : x, `a Float32Array of ${count} x ${n0} values`);
    }
    const s = slot(count);
    upload(s, x, null, count);
    freePhase(s);
    return be.argmaxRows(s.cost.scores(s.free[L - 1] as Matrix));
  };

  return { slot, upload, observe, freePhase, gather, evaluate, predict };
}

/**
 * Creates an evaluator: free-phase inference on a trained network, with no optimizer and no
 * nudged phase (the settings a checkpoint records: T1, dynamics, order, tolerance). The
 * combination of energy, cost, dynamics and network is checked as for training.
 *
 * @example
 * ```ts
 * const ev = createEvaluator({ network, energy: createEnergy("hopfield"), cost: createCost("mse"), config: { t1: 100, dynamics: "leaky" } });
 * const { accuracy } = ev.evaluate(test);
 * ```
 */
export function createEvaluator(options: CreateEvaluatorOptions): Evaluator {
  checkComponents("createEvaluator", options);
  checkInferenceConfig("createEvaluator", options.config);
  checkCombination(options.energy, options.cost, options.config.dynamics, options.network);
  const core = inferenceCore(options);
  return { network: options.network, config: options.config, evaluate: core.evaluate, predict: core.predict };
}

/** One-shot {@link createEvaluator} + `evaluate(data, { batch })`. */
export function evaluate(options: CreateEvaluatorOptions & { readonly data: LabeledData; readonly batch?: number }): EvalStats {
  return createEvaluator(options).evaluate(options.data, options.batch === undefined ? {} : { batch: options.batch });
}
