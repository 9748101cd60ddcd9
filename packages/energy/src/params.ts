import type { Backend, Matrix } from "@hts/kernels";
import { EnergyError } from "./errors.js";

/**
 * The parameters of a layered network with layers 0..L (layer 0 the input): `W[l - 1]`
 * is W_l, of shape n_{l-1} x n_l (row-vector convention: the drive of layer l from
 * below is s_{l-1} W_l); `b[l - 1]` is b_l, 1 x n_l.
 */
export interface NetworkParams {
  readonly sizes: readonly number[];
  readonly W: readonly Matrix[];
  readonly b: readonly Matrix[];
}

/** Gradients (or updates) with the same shapes as {@link NetworkParams}' W and b. */
export interface ParamGradients {
  readonly W: readonly Matrix[];
  readonly b: readonly Matrix[];
}

/** Allocates zero matrices shaped like the parameters of `sizes` on `backend`. */
export function allocParamGradients(backend: Backend, sizes: readonly number[]): ParamGradients {
  validateSizes(sizes, "allocParamGradients");
  const W: Matrix[] = [];
  const b: Matrix[] = [];
  for (let l = 1; l < sizes.length; l++) {
    W.push(backend.matrix(sizes[l - 1] as number, sizes[l] as number));
    b.push(backend.matrix(1, sizes[l] as number));
  }
  return { W, b };
}

/** Allocates a zero state (one B x n_l matrix per layer l = 1..L). */
export function allocState(backend: Backend, sizes: readonly number[], batch: number): Matrix[] {
  validateSizes(sizes, "allocState");
  if (!Number.isInteger(batch) || batch < 1) {
    throw new EnergyError("HTS_INVALID_ARGUMENT", `allocState: batch must be a positive integer, got ${String(batch)}`, {
      parameter: "batch",
      value: batch,
      expected: "positive integer",
    });
  }
  return sizes.slice(1).map((n) => backend.matrix(batch, n));
}

/** Checks layer sizes: at least two positive integers. */
export function validateSizes(sizes: readonly number[], where: string): void {
  if (!Array.isArray(sizes) || sizes.length < 2 || !sizes.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new EnergyError(
      "HTS_INVALID_ARGUMENT",
      `${where}: sizes must list at least two positive integer layer sizes, got ${JSON.stringify(sizes)}`,
      { parameter: "sizes", value: sizes, expected: "at least two positive integers" },
    );
  }
}
