import type { ActivationKind, Backend, Matrix } from "@hts/kernels";
import { EnergyError } from "./errors.js";

/**
 * A cost C(s_L, y) on the output layer, the term of the total energy F = E + beta C that
 * nudges the network toward the target. Costs have no parameters of their own, so their
 * parameter gradient is zero and only the state gradient exists.
 */
export interface Cost {
  readonly name: string;
  /** Binds to a backend, the network's activation and the output shape, allocating once. */
  bind(backend: Backend, activation: ActivationKind, batch: number, outputs: number): BoundCost;
}

/** A cost bound to a backend and an output shape. */
export interface BoundCost {
  /** C averaged over the batch (reads back). */
  value(sL: Matrix, y: Matrix): number;
  /** dC/ds_L per example (not averaged) into `out` (B x n_L). */
  gradient(sL: Matrix, y: Matrix, out: Matrix): void;
}

/** The costs built in, by name. */
export const COSTS = ["mse", "ce"] as const;
/** A built-in cost's name. */
export type CostName = (typeof COSTS)[number];

function checkShape(where: string, batch: number, outputs: number): void {
  if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(outputs) || outputs < 1) {
    throw new EnergyError(
      "HTS_INVALID_ARGUMENT",
      `${where}: batch and outputs must be positive integers, got ${String(batch)} and ${String(outputs)}`,
      { parameter: "batch", value: [batch, outputs], expected: "positive integers" },
    );
  }
}

/** Squared error C = 1/2 ||rho(s_L) - y||^2, dC/ds_L = rho'(s_L) (.) (rho(s_L) - y). */
export function squaredError(): Cost {
  return {
    name: "mse",
    bind(be, activation, batch, outputs) {
      checkShape("squaredError.bind", batch, outputs);
      const r = be.matrix(batch, outputs);
      const d = be.matrix(batch, outputs);
      return {
        value(sL, y) {
          be.activate(activation, sL, r);
          be.axpby(1, r, -1, y, r);
          return (0.5 * be.dot(r, r)) / batch;
        },
        gradient(sL, y, out) {
          be.activate(activation, sL, r);
          be.axpby(1, r, -1, y, r);
          be.activateDerivative(activation, sL, d);
          be.mul(d, r, out);
        },
      };
    },
  };
}

/**
 * Softmax cross-entropy on the output state: C = -sum_k y_k log softmax(s_L)_k,
 * dC/ds_L = softmax(s_L) - y. The read-out is the softmax of the state itself (no extra
 * read-out weights), so the prediction (argmax of s_L) is unchanged.
 */
export function softmaxCrossEntropy(): Cost {
  return {
    name: "ce",
    bind(be, _activation, batch, outputs) {
      checkShape("softmaxCrossEntropy.bind", batch, outputs);
      const p = be.matrix(batch, outputs);
      return {
        value(sL, y) {
          be.softmaxRows(sL, p);
          const probs = be.read(p);
          const target = be.read(y);
          let total = 0;
          for (let i = 0; i < probs.length; i++) {
            const t = target[i] as number;
            if (t !== 0) total -= t * Math.log(Math.max(probs[i] as number, 1e-300));
          }
          return total / batch;
        },
        gradient(sL, y, out) {
          be.softmaxRows(sL, p);
          be.axpby(1, p, -1, y, out);
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
