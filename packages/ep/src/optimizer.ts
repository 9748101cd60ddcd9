import type { NetworkParams, ParamGradients } from "@hts/energy";
import type { Backend, Matrix } from "@hts/kernels";
import { invalid } from "./errors.js";

/** The optimizers built in. */
export const OPTIMIZERS = ["sgd", "momentum", "adam"] as const;
/** A built-in optimizer's name. */
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** Settings of an optimizer. `lr` has one rate per weight layer (W_l and b_l share it). */
export interface OptimizerConfig {
  readonly name: OptimizerName;
  readonly lr: readonly number[];
  /** Heavy-ball coefficient for `momentum` (default 0.9). */
  readonly momentum?: number;
  /** L2 weight decay added to the weights' gradient, not the biases' (default 0). */
  readonly weightDecay?: number;
  /** Adam's beta1, beta2, epsilon (defaults 0.9, 0.999, 1e-8). */
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
}

/**
 * Applies a gradient estimate to the parameters, descending: theta <- theta - lr g. In
 * EP, g = (dE/dtheta(s^beta) - dE/dtheta(s^0)) / beta.
 */
export interface Optimizer {
  readonly config: OptimizerConfig;
  /** The learning rates in use (one per weight layer). */
  readonly lr: readonly number[];
  /** Replaces the learning rates (a schedule calls this between epochs). */
  setLearningRates(lr: readonly number[]): void;
  step(params: NetworkParams, grads: ParamGradients): void;
  /** The optimizer's state (step count, rates and moment buffers by name) for a checkpoint. */
  saveState(): OptimizerState;
  /** Restores a state from {@link Optimizer.saveState} (same optimizer and layer sizes). */
  loadState(state: OptimizerState): void;
}

/**
 * A saved optimizer state: `tensors` holds the moment buffers read back to the host, named
 * `<moment>.<W|b><l>` (e.g. `m.W1`, `v.b2`; momentum keeps its velocity as `m`).
 */
export interface OptimizerState {
  readonly name: OptimizerName;
  readonly step: number;
  readonly lr: readonly number[];
  readonly tensors: Readonly<Record<string, Float32Array>>;
}

function checkRate(where: string, name: string, v: unknown, lo: number, hi: number, closedHi = false): void {
  const ok = typeof v === "number" && Number.isFinite(v) && v >= lo && (closedHi ? v <= hi : v < hi);
  if (!ok) invalid(where, name, v, `a number in [${lo}, ${hi}${closedHi ? "]" : ")"}`);
}

/** Creates an optimizer for a network of `sizes` on `backend` (allocates its state once). */
export function createOptimizer(backend: Backend, sizes: readonly number[], config: OptimizerConfig): Optimizer {
  const where = "createOptimizer";
  if (!OPTIMIZERS.includes(config.name)) invalid(where, "name", config.name, OPTIMIZERS.join(" | "));
  const L = sizes.length - 1;
  if (!Array.isArray(config.lr) || config.lr.length !== L) {
    invalid(where, "lr", config.lr, `${L} learning rates (one per weight layer)`);
  }
  const checkRates = (fn: string, lr: readonly number[]) => {
    if (!Array.isArray(lr) || lr.length !== L) invalid(fn, "lr", lr, `${L} learning rates (one per weight layer)`);
    lr.forEach((r, i) => {
      if (typeof r !== "number" || !Number.isFinite(r) || r < 0) invalid(fn, `lr[${i}]`, r, "a finite number >= 0");
    });
  };
  checkRates(where, config.lr);
  let rates = [...config.lr];
  const momentum = config.momentum ?? 0.9;
  const weightDecay = config.weightDecay ?? 0;
  const beta1 = config.beta1 ?? 0.9;
  const beta2 = config.beta2 ?? 0.999;
  const epsilon = config.epsilon ?? 1e-8;
  checkRate(where, "momentum", momentum, 0, 1);
  checkRate(where, "weightDecay", weightDecay, 0, Number.POSITIVE_INFINITY);
  checkRate(where, "beta1", beta1, 0, 1);
  checkRate(where, "beta2", beta2, 0, 1);
  if (!(epsilon > 0)) invalid(where, "epsilon", epsilon, "a number > 0");

  const like = (): Matrix[][] => [
    sizes.slice(1).map((n, i) => backend.matrix(sizes[i] as number, n)),
    sizes.slice(1).map((n) => backend.matrix(1, n)),
  ];
  const name = config.name;
  const first = name === "sgd" ? null : like();
  const second = name === "adam" ? like() : null;
  // The moment buffers by the names their tensors carry in a saved state: m.W1, m.b1, ...
  // then v.W1, ... (only those the optimizer has).
  const slots: { key: string; matrix: Matrix }[] = [];
  for (const [moment, bufs] of [
    ["m", first],
    ["v", second],
  ] as const) {
    if (!bufs) continue;
    for (let l = 0; l < L; l++) {
      slots.push({ key: `${moment}.W${l + 1}`, matrix: bufs[0]?.[l] as Matrix });
      slots.push({ key: `${moment}.b${l + 1}`, matrix: bufs[1]?.[l] as Matrix });
    }
  }
  let t = 0;
  return {
    config: { ...config, momentum, weightDecay, beta1, beta2, epsilon },
    get lr() {
      return rates;
    },
    setLearningRates(lr) {
      checkRates("setLearningRates", lr);
      rates = [...lr];
    },
    saveState() {
      const tensors: Record<string, Float32Array> = {};
      for (const { key, matrix } of slots) tensors[key] = Float32Array.from(backend.read(matrix));
      return { name, step: t, lr: [...rates], tensors };
    },
    loadState(state) {
      if (state.name !== name) invalid("loadState", "state.name", state.name, `"${name}" (the optimizer being restored)`);
      if (!Number.isInteger(state.step) || state.step < 0) invalid("loadState", "state.step", state.step, "an integer >= 0");
      checkRates("loadState", state.lr);
      for (const { key, matrix } of slots) {
        const data = state.tensors[key];
        if (!data || data.length !== matrix.rows * matrix.cols) {
          invalid("loadState", `state.tensors["${key}"]`, data ? `${data.length} values` : "missing", `${matrix.rows * matrix.cols} values`);
        }
        backend.write(matrix, data);
      }
      t = state.step;
      rates = [...state.lr];
    },
    step(params, grads) {
      t += 1;
      for (let l = 0; l < L; l++) {
        const lr = rates[l] as number;
        const pairs: [Matrix, Matrix, number][] = [
          [params.W[l] as Matrix, grads.W[l] as Matrix, 0],
          [params.b[l] as Matrix, grads.b[l] as Matrix, 1],
        ];
        for (const [p, g, k] of pairs) {
          // Weight decay applies to the weights only, not to the biases.
          const wd = k === 0 ? weightDecay : 0;
          if (name === "adam") {
            const m = (first as Matrix[][])[k]?.[l] as Matrix;
            const v = (second as Matrix[][])[k]?.[l] as Matrix;
            backend.adamStep(p, g, m, v, { lr, beta1, beta2, epsilon, weightDecay: wd, step: t });
          } else {
            const vel = name === "momentum" ? ((first as Matrix[][])[k]?.[l] as Matrix) : null;
            backend.sgdStep(p, g, vel, { lr, momentum: name === "momentum" ? momentum : 0, weightDecay: wd });
          }
        }
      }
    },
  };
}
