import type { ActivationKind, Backend, Matrix } from "@hts/kernels";
import type { NetworkParams, ParamGradients } from "./params.js";

/**
 * An energy function of a layered network: the component the EP trainer is written
 * against. A researcher swaps in a new energy by implementing this interface; the trainer
 * needs nothing else.
 */
export interface Energy {
  /** Short name recorded in configurations, e.g. `hopfield`. */
  readonly name: string;
  /** The activation rho the energy uses. */
  readonly activation: ActivationKind;
  /**
   * How a state maps to a firing rate, which the cost and a read-out see: `rho` for an
   * energy whose states are pre-activations (Hopfield), `null` when the states already are
   * rates (the primitive function, whose fixed points are s = rho(dPhi/ds)). A cost never
   * applies rho to a rate a second time. Absent: `activation` (Hopfield-like states).
   */
  readonly rate?: ActivationKind | null;
  /**
   * Whether the update rule `dynamics` (`"leaky"` or `"gradient"`) relaxes this energy to a
   * stationary point of the total energy E + beta C, which the EP estimate needs: `null`
   * when it does, otherwise a one-line reason that names a sound alternative. An energy
   * without this member is taken as sound under both rules (your responsibility).
   */
  checkDynamics?(dynamics: string): string | null;
  /**
   * Binds the energy to a backend, parameters and a batch size, allocating its work
   * space once. The bound energy reads `params` live: after the parameters change, call
   * {@link BoundEnergy.setInput} again (it recomputes what depends on x and the weights).
   */
  bind(backend: Backend, params: NetworkParams, batch: number): BoundEnergy;
}

/** Options of {@link BoundEnergy.paramGradient}. */
export interface ParamGradientOptions {
  /** Multiplies the gradient (default 1). */
  readonly scale?: number;
  /** Add to `out` instead of overwriting it (default false). */
  readonly accumulate?: boolean;
}

/** Options of {@link BoundEnergy.gradientStep}. */
export interface EnergyStepOptions {
  /** dt_l (1 x n_l) per relaxed layer. */
  readonly dt: readonly Matrix[];
  /** Multiplies the velocity in the Euler step (the gradient rule descends: -1). */
  readonly scale: number;
  /** The clip range of the Euler step (the activation's range). */
  readonly clip: readonly [number, number];
  /** The nudge on the top layer (the nudged phase): its gradient gets `beta * costGradient` added. */
  readonly nudge?: { readonly beta: number; readonly costGradient: Matrix } | null;
}

/**
 * Which layers a state gradient or a drive is needed for: all, or the odd (l = 1, 3, ...)
 * or even (l = 2, 4, ...) ones, as the even/odd update order asks. An energy may compute
 * more layers than asked; the others' entries of `out` are then unspecified.
 */
export type LayerParity = "all" | "odd" | "even";

/**
 * An energy bound to a backend, parameters, a batch size and a current input x. States
 * are lists of B x n_l matrices for l = 1..L (the input is not part of the state).
 */
export interface BoundEnergy {
  readonly batch: number;
  /** Sets the clamped input x (B x n_0) and recomputes the input-dependent terms. */
  setInput(x: Matrix): void;
  /** E(s), averaged over the batch (reads back). */
  value(state: readonly Matrix[]): number;
  /** dE/ds_l for l = 1..L (or only the layers of `layers`) into `out` (same shapes as the state). */
  stateGradient(state: readonly Matrix[], out: readonly Matrix[], layers?: LayerParity): void;
  /**
   * The pre-activation u_l whose image rho(u_l) is the fixed-point target of layer l,
   * used by the leaky update `s_l <- s_l + dt_l (rho(u_l) - s_l)`.
   */
  drive(state: readonly Matrix[], out: readonly Matrix[], layers?: LayerParity): void;
  /**
   * Optional: one Euler step of the gradient rule for the layers of `layers`, in one call,
   * so that a backend may fuse it: for each such layer l, `work[l]` = dE/ds_l (as
   * {@link BoundEnergy.stateGradient}), plus `nudge.beta * nudge.costGradient` on the top
   * layer when `nudge` is given, then `next[l] = clip(state[l] + scale dt_l (.) work[l])`.
   * The same values as stateGradient, the nudge's axpby and eulerStep one after another;
   * the relaxer in `@hts/ep` falls back to those when an energy lacks this method. `next`
   * must be other matrices than `state` and `work`.
   */
  gradientStep?(state: readonly Matrix[], work: readonly Matrix[], next: readonly Matrix[], layers: LayerParity, options: EnergyStepOptions): void;
  /** dE/dW_l and dE/db_l, averaged over the batch, into `out`. */
  paramGradient(state: readonly Matrix[], out: ParamGradients, options?: ParamGradientOptions): void;
  /**
   * Optional: `scale` (dE/dtheta(plus) - dE/dtheta(minus)) into `out` (overwriting it), the
   * EP estimate's difference of two states' parameter gradients, in one call so that an
   * energy may spend fewer products on it: a term linear in the state, such as the input
   * layer's x^T rho(s_1), needs one product of x with the difference of the activations
   * instead of one per state. The same values as `paramGradient(plus, out, { scale })` then
   * `paramGradient(minus, out, { scale: -scale, accumulate: true })` up to the order of the
   * float sums; the trainer in `@hts/ep` falls back to those two calls when an energy lacks
   * this method. `options.accumulate` is not read.
   */
  paramGradientDifference?(plus: readonly Matrix[], minus: readonly Matrix[], out: ParamGradients, options?: ParamGradientOptions): void;
}
