import { type ActivationKind, type Backend, type Matrix, squaredErrorGradient } from "@hts/kernels";
import type { ParamGradientOptions } from "./energy.js";
import { EnergyError } from "./errors.js";

/**
 * The weights of a read-out: W_out (units x classes, row-vector convention: the logits are
 * rate(s_H) W_out + b_out) and b_out (1 x classes). They are not part of the relaxed state.
 */
export interface ReadoutParams {
  readonly W: Matrix;
  readonly b: Matrix;
}

/** What a cost is bound to. */
export interface CostBindOptions {
  /** Minibatch size B. */
  readonly batch: number;
  /** Neurons of the layer the cost reads: the output layer, or the last relaxed layer H under a read-out. */
  readonly units: number;
  /** Classes: the width of the one-hot target (equal to `units` for a cost without read-out). */
  readonly classes: number;
  /**
   * The energy's map from state to rate ({@link Energy.rate}): `rho` for Hopfield states,
   * `null` when the states are rates already (then the cost reads s itself).
   */
  readonly rate: ActivationKind | null;
  /** The read-out parameters, for a cost with `readout: true`. */
  readonly readout?: ReadoutParams;
}

/**
 * A cost C(s, y) on the top relaxed layer, the term of the total energy F = E + beta C that
 * nudges the network toward the target. A cost either reads the output layer directly
 * (`readout: false`, e.g. squared error), or reads the last relaxed layer through read-out
 * weights of its own (`readout: true`, the softmax cross-entropy of Laborieux et al. 2021),
 * which then learn from the same two phases.
 */
export interface Cost {
  readonly name: string;
  /** Whether the cost has read-out weights W_out, b_out (the class units are then not relaxed). */
  readonly readout: boolean;
  /** Binds to a backend and shapes, allocating once. */
  bind(backend: Backend, options: CostBindOptions): BoundCost;
}

/** A cost bound to a backend and shapes. `s` is the top relaxed layer (B x units), `y` the one-hot target (B x classes). */
export interface BoundCost {
  /** C averaged over the batch (reads back). */
  value(s: Matrix, y: Matrix): number;
  /** dC/ds per example (not averaged) into `out` (B x units). */
  gradient(s: Matrix, y: Matrix, out: Matrix): void;
  /**
   * `into = into + alpha dC/ds` (B x units): the nudge added to a velocity in one call, which
   * a backend may fuse. Optional: without it, `gradient` then `axpby(1, into, alpha, g, into)`
   * do the same.
   */
  addGradient?(s: Matrix, y: Matrix, alpha: number, into: Matrix): void;
  /** The class scores (B x classes) whose row argmax is the prediction (a live buffer, or `s` itself). */
  scores(s: Matrix): Matrix;
  /** `out = scale * dC/dW_out, scale * dC/db_out`, averaged over the batch (only a cost with a read-out has it). */
  paramGradient?(s: Matrix, y: Matrix, out: ReadoutParams, options?: ParamGradientOptions): void;
}

/** The costs built in, by name. */
export const COSTS = ["mse", "ce"] as const;
/** A built-in cost's name. */
export type CostName = (typeof COSTS)[number];

function checkBind(where: string, o: CostBindOptions, readout: boolean): void {
  const bad = (parameter: string, value: unknown, expected: string): never => {
    throw new EnergyError("HTS_INVALID_ARGUMENT", `${where}: ${parameter} must be ${expected}, got ${JSON.stringify(value)}`, {
      parameter,
      value,
      expected,
    });
  };
  for (const k of ["batch", "units", "classes"] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) bad(k, o[k], "a positive integer");
  }
  if (!readout && o.classes !== o.units) bad("classes", o.classes, `${o.units} (a cost without read-out reads one output neuron per class)`);
  if (readout) {
    const r = o.readout as ReadoutParams;
    if (!o.readout) bad("readout", r, `read-out weights W_out (${o.units} x ${o.classes}) and b_out (1 x ${o.classes})`);
    if (r.W.rows !== o.units || r.W.cols !== o.classes) bad("readout.W", [r.W.rows, r.W.cols], `${o.units} x ${o.classes}`);
    if (r.b.rows !== 1 || r.b.cols !== o.classes) bad("readout.b", [r.b.rows, r.b.cols], `1 x ${o.classes}`);
  }
}

/**
 * Squared error on the output layer, C = 1/2 ||r(s_L) - y||^2 with r the energy's rate
 * (rho for Hopfield states, the identity for states that are rates already):
 * dC/ds_L = r'(s_L) (.) (r(s_L) - y). The prediction is the argmax of s_L.
 */
export function squaredError(): Cost {
  return {
    name: "mse",
    readout: false,
    bind(be, options) {
      checkBind("squaredError.bind", options, false);
      const { batch, units, rate } = options;
      const r = be.matrix(batch, units);
      const d = be.matrix(batch, units);
      // the added gradient's own buffer, made on first use (only the nudged phase adds)
      let g: Matrix | null = null;
      const residual = (s: Matrix, y: Matrix) => {
        if (rate === null) be.axpby(1, s, -1, y, r);
        else {
          be.activate(rate, s, r);
          be.axpby(1, r, -1, y, r);
        }
      };
      return {
        value(s, y) {
          residual(s, y);
          return (0.5 * be.dot(r, r)) / batch;
        },
        gradient(s, y, out) {
          squaredErrorGradient(be, rate, s, y, out, { r, d, g: out });
        },
        addGradient(s, y, alpha, into) {
          if (be.squaredErrorGradient === undefined) g ??= be.matrix(batch, units);
          squaredErrorGradient(be, rate, s, y, into, { r, d, g: g ?? into }, alpha);
        },
        scores: (s) => s,
      };
    },
  };
}

/**
 * Softmax cross-entropy through a read-out (Laborieux et al. 2021): with h = r(s_H) the
 * rate of the last relaxed layer, logits z = h W_out + b_out, o = softmax(z),
 * C = -sum_k y_k log o_k. Then dC/dz = o - y, dC/ds_H = r'(s_H) (.) ((o - y) W_out^T),
 * dC/dW_out = h^T (o - y) / B and dC/db_out = mean (o - y). The class units are the
 * read-out: they are computed from s_H, never relaxed. The prediction is the argmax of z.
 */
export function softmaxCrossEntropy(): Cost {
  return {
    name: "ce",
    readout: true,
    bind(be, options) {
      checkBind("softmaxCrossEntropy.bind", options, true);
      const { batch, units, classes, rate } = options;
      const { W, b } = options.readout as ReadoutParams;
      const h = rate === null ? null : be.matrix(batch, units);
      const d = be.matrix(batch, units);
      const z = be.matrix(batch, classes);
      const p = be.matrix(batch, classes);
      const rateOf = (s: Matrix): Matrix => {
        if (h === null) return s;
        be.activate(rate as ActivationKind, s, h);
        return h;
      };
      const logits = (s: Matrix): Matrix => {
        be.broadcastRows(b, z);
        be.gemm(rateOf(s), W, z, { beta: 1 });
        return z;
      };
      /** o - y into p (h holds r(s) afterwards). */
      const error = (s: Matrix, y: Matrix) => {
        be.softmaxRows(logits(s), p);
        be.axpby(1, p, -1, y, p);
      };
      return {
        value(s, y) {
          be.softmaxRows(logits(s), p);
          const probs = be.read(p);
          const target = be.read(y);
          let total = 0;
          for (let i = 0; i < probs.length; i++) {
            const t = target[i] as number;
            if (t !== 0) total -= t * Math.log(Math.max(probs[i] as number, 1e-300));
          }
          return total / batch;
        },
        gradient(s, y, out) {
          error(s, y);
          be.gemm(p, W, out, { transB: true });
          if (rate !== null) {
            be.activateDerivative(rate, s, d);
            be.mul(d, out, out);
          }
        },
        scores: (s) => logits(s),
        paramGradient(s, y, out, o = {}) {
          error(s, y);
          const scale = (o.scale ?? 1) / batch;
          const beta = o.accumulate ? 1 : 0;
          be.gemm(h ?? s, p, out.W, { transA: true, alpha: scale, beta });
          be.columnSums(p, out.b, scale, beta);
        },
      };
    },
  };
}

/** The built-in cost called `name` (`mse` or `ce`). */
export function createCost(name: string): Cost {
  if (name === "mse") return squaredError();
  if (name === "ce") return softmaxCrossEntropy();
  throw new EnergyError("HTS_INVALID_ARGUMENT", `createCost: cost must be one of ${COSTS.join(", ")}, got ${JSON.stringify(name)}`, {
    parameter: "cost",
    value: name,
    expected: COSTS.join(" | "),
  });
}
