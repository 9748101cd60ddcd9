import type { BoundCost, BoundEnergy, LayerParity } from "@hts/energy";
import { type ActivationKind, activationRange, type Backend, heldMaxAbs, leakyStep, type Matrix } from "@hts/kernels";
import { EpError, invalid } from "./errors.js";

/** The two update rules of SPEC section 3. */
export const DYNAMICS = ["leaky", "gradient"] as const;
/** An update rule's name. */
export type Dynamics = (typeof DYNAMICS)[number];

/** The orders in which the layers update within a step (SPEC section 3). */
export const ORDERS = ["sync", "even-odd"] as const;
/**
 * `sync`: every layer from the previous state; `even-odd`: the odd layers (1, 3, ...) from
 * the previous state, then the even ones from the new odd ones.
 */
export type Order = (typeof ORDERS)[number];

/** What a relaxation did. */
export interface RelaxResult {
  /** Steps taken (fewer than asked when the tolerance stopped it early). */
  readonly steps: number;
  /**
   * The distance to the fixed point at the final state, independent of dt: for the leaky
   * rule max |rho(drive) - s|, for the gradient rule the largest |dF/ds| among the neurons
   * not held at a bound by the clip. NaN when it was not asked for.
   */
  readonly residual: number;
  /** The size of the last step, max |s_t - s_{t-1}| (= max |dt_i v_i|; not a residual). */
  readonly stepSize: number;
}

/** Options of {@link Relaxer.relax}. */
export interface RelaxOptions {
  /** Phase name used in error messages (`free`, `nudged`, ...). */
  readonly phase: string;
  readonly steps: number;
  /** Nudging strength (0 in the free phase). */
  readonly beta: number;
  /**
   * Stop early when the dt-free residual falls below this (0: never); checked after every
   * step. In the `sync` order the check reads the residual that the step itself computed,
   * that of the state it started from, so the relaxation stops one step after the first
   * state within the tolerance (the reported residual is the final state's); in the
   * `even-odd` order it evaluates the residual of the new state, a second drive per step.
   */
  readonly tolerance?: number;
  /** Compute the final residual (one more evaluation of the energy's gradient; default true). */
  readonly residual?: boolean;
  /**
   * Called after every step with the step number (1-based); it may read the state, or ask
   * for {@link Relaxer.residual}, the energy or the cost (each a read-back). Leave it out on
   * the hot path: without it a step reads nothing back.
   */
  readonly onStep?: (step: number) => void;
}

/** Options of the {@link Relaxer} constructor. */
export interface RelaxerOptions {
  readonly backend: Backend;
  readonly energy: BoundEnergy;
  readonly cost: BoundCost;
  /** dt_l (1 x n_l) per relaxed layer. */
  readonly dt: readonly Matrix[];
  readonly dynamics: Dynamics;
  readonly activation: ActivationKind;
  /** n_0 .. n_L (relaxed layers). */
  readonly sizes: readonly number[];
  readonly order?: Order;
}

/**
 * Relaxes a minibatch state with per-neuron explicit Euler steps:
 * - gradient: s <- clip(s - dt (.) dF/ds, range of rho), F = E + beta C;
 * - leaky: s <- s + dt (.) (rho(u) - s), u the energy's drive, with u_L - beta dC/ds_L;
 * all layers at once from the previous state (`sync`), or odd then even layers
 * (`even-odd`). All buffers are allocated once; a step allocates nothing and reads nothing
 * back unless a tolerance is set (then the residual once per step, see
 * {@link RelaxOptions.tolerance}).
 */
export class Relaxer {
  readonly batch: number;
  readonly order: Order;
  readonly #be: Backend;
  readonly #energy: BoundEnergy;
  readonly #cost: BoundCost;
  readonly #dt: readonly Matrix[];
  readonly #dynamics: Dynamics;
  readonly #kind: ActivationKind;
  readonly #range: readonly [number, number];
  /** The current state, the next state, and a per-layer work buffer. */
  #s: Matrix[];
  #next: Matrix[];
  readonly #work: Matrix[];
  readonly #costGrad: Matrix;
  #target: Matrix | null = null;
  /** Zeros shaped as the layers, for max |work| (made on the first tolerance check). */
  #zeros: Matrix[] | null = null;

  constructor(options: RelaxerOptions) {
    const { backend, energy, cost, dt, dynamics, activation, sizes } = options;
    this.batch = energy.batch;
    this.order = options.order ?? "sync";
    if (!ORDERS.includes(this.order)) invalid("Relaxer", "order", this.order, ORDERS.join(" | "));
    this.#be = backend;
    this.#energy = energy;
    this.#cost = cost;
    this.#dt = dt;
    this.#dynamics = dynamics;
    this.#kind = activation;
    this.#range = activationRange(activation);
    const alloc = () => sizes.slice(1).map((n) => backend.matrix(this.batch, n));
    this.#s = alloc();
    this.#next = alloc();
    this.#work = alloc();
    this.#costGrad = backend.matrix(this.batch, sizes[sizes.length - 1] as number);
  }

  /** The current state s_1..s_L (live buffers: copy what must be kept). */
  get state(): readonly Matrix[] {
    return this.#s;
  }

  /** Sets the target y (B x n_L, one-hot) used when beta is not 0. */
  setTarget(y: Matrix): void {
    this.#target = y;
  }

  /** Sets every state to 0 (the free phase's start). */
  reset(): void {
    for (const s of this.#s) this.#be.fill(s, 0);
  }

  /** Copies `from` into the current state. */
  load(from: readonly Matrix[]): void {
    for (let l = 0; l < from.length; l++) this.#be.copy(from[l] as Matrix, this.#s[l] as Matrix);
  }

  /** Copies the current state into `to`. */
  save(to: readonly Matrix[]): void {
    for (let l = 0; l < to.length; l++) this.#be.copy(this.#s[l] as Matrix, to[l] as Matrix);
  }

  /**
   * The velocity of the layers of `layers` at `state` into the work buffers: -dF/ds for the
   * gradient rule, rho(u) - s for the leaky rule (u with the nudge on the output).
   */
  #velocity(state: readonly Matrix[], beta: number, layers: LayerParity): void {
    const L = state.length;
    const work = this.#work;
    const top = L - 1;
    const topIn = layers === "all" || (layers === "odd") === (L % 2 === 1);
    if (this.#dynamics === "gradient") {
      this.#energy.stateGradient(state, work, layers);
      if (beta !== 0 && topIn) this.#nudge(state[top] as Matrix, beta, work[top] as Matrix);
    } else {
      this.#energy.drive(state, work, layers);
      if (beta !== 0 && topIn) this.#nudge(state[top] as Matrix, -beta, work[top] as Matrix);
    }
  }

  /** `into = into + alpha dC/ds` at the top state: the cost's fused addGradient when it has one. */
  #nudge(top: Matrix, alpha: number, into: Matrix): void {
    const cost = this.#cost;
    if (cost.addGradient !== undefined) cost.addGradient(top, this.#target as Matrix, alpha, into);
    else {
      cost.gradient(top, this.#target as Matrix, this.#costGrad);
      this.#be.axpby(1, into, alpha, this.#costGrad, into);
    }
  }

  /** One Euler step of the layers of `layers` from `from` into `to`. */
  #update(from: readonly Matrix[], to: readonly Matrix[], layers: LayerParity): void {
    const be = this.#be;
    const work = this.#work;
    for (let l = 0; l < from.length; l++) {
      if (layers !== "all" && (layers === "odd") !== (l % 2 === 0)) continue;
      if (this.#dynamics === "gradient") {
        be.eulerStep(from[l] as Matrix, work[l] as Matrix, this.#dt[l] as Matrix, to[l] as Matrix, { scale: -1, clip: this.#range });
      } else {
        // w = rho(u) - s, then the Euler step: one fused operation (Backend.leakyStep)
        leakyStep(be, this.#kind, from[l] as Matrix, work[l] as Matrix, this.#dt[l] as Matrix, to[l] as Matrix);
      }
    }
  }

  /**
   * The velocity and the Euler step of the layers of `layers` from `from` into `to`: for the
   * gradient rule with an energy that has `gradientStep`, one call (which a backend may fuse);
   * else the velocity, then the update of each layer.
   */
  #advance(from: readonly Matrix[], to: readonly Matrix[], beta: number, layers: LayerParity): void {
    const energy = this.#energy;
    if (this.#dynamics !== "gradient" || energy.gradientStep === undefined) {
      this.#velocity(from, beta, layers);
      this.#update(from, to, layers);
      return;
    }
    const L = from.length;
    const topIn = layers === "all" || (layers === "odd") === (L % 2 === 1);
    let nudge: { beta: number; costGradient: Matrix } | null = null;
    if (beta !== 0 && topIn) {
      // the cost gradient reads only the top state: computed first, added in the energy's step
      this.#cost.gradient(from[L - 1] as Matrix, this.#target as Matrix, this.#costGrad);
      nudge = { beta, costGradient: this.#costGrad };
    }
    energy.gradientStep(from, this.#work, to, layers, { dt: this.#dt, scale: -1, clip: this.#range, nudge });
  }

  #step(beta: number): void {
    const s = this.#s;
    const next = this.#next;
    if (this.order === "sync" || s.length === 1) {
      this.#advance(s, next, beta, "all");
      this.#s = next;
      this.#next = s;
      return;
    }
    // Odd layers from the previous state into next (even layers carried over), then the
    // even layers from next into s; then swap the odd layers' buffers, so that s holds the
    // new state and next the previous one.
    const be = this.#be;
    for (let l = 1; l < s.length; l += 2) be.copy(s[l] as Matrix, next[l] as Matrix);
    this.#advance(s, next, beta, "odd");
    this.#advance(next, s, beta, "even");
    for (let l = 0; l < s.length; l += 2) {
      const t = s[l] as Matrix;
      s[l] = next[l] as Matrix;
      next[l] = t;
    }
  }

  /**
   * The dt-free residual of the current state (reads back): for the leaky rule
   * max |rho(u) - s|; for the gradient rule max |dF/ds| over the neurons that the clip does
   * not hold at a bound (a neuron at the lower bound with dF/ds > 0, or at the upper bound
   * with dF/ds < 0, is at its constrained fixed point).
   */
  residual(beta: number): number {
    const be = this.#be;
    this.#velocity(this.#s, beta, "all");
    let r = 0;
    for (let l = 0; l < this.#s.length; l++) {
      const s = this.#s[l] as Matrix;
      const w = this.#work[l] as Matrix;
      let d: number;
      if (this.#dynamics === "leaky") {
        be.activate(this.#kind, w, w);
        d = be.maxAbsDiff(w, s);
      } else {
        d = heldMaxAbs(be, s, w, this.#range[0], this.#range[1]);
      }
      if (Number.isNaN(d)) return d;
      if (d > r) r = d;
    }
    return r;
  }

  /**
   * The dt-free residual of the state the last sync step started from (reads back), from
   * the velocity that step left in the work buffers: max |rho(u) - s| for the leaky rule,
   * max |dF/ds| over the neurons not held at a bound for the gradient rule.
   */
  #stepResidual(): number {
    const be = this.#be;
    this.#zeros ??= this.#work.map((w) => be.matrix(w.rows, w.cols));
    let r = 0;
    for (let l = 0; l < this.#work.length; l++) {
      const w = this.#work[l] as Matrix;
      const d = this.#dynamics === "leaky" ? be.maxAbsDiff(w, this.#zeros[l] as Matrix) : heldMaxAbs(be, this.#next[l] as Matrix, w, this.#range[0], this.#range[1]);
      if (Number.isNaN(d)) return d;
      if (d > r) r = d;
    }
    return r;
  }

  /** Largest |s - s_previous| of the last step (reads back). */
  #stepSize(): number {
    let r = 0;
    for (let l = 0; l < this.#s.length; l++) {
      const d = this.#be.maxAbsDiff(this.#s[l] as Matrix, this.#next[l] as Matrix);
      if (Number.isNaN(d)) return d;
      if (d > r) r = d;
    }
    return r;
  }

  #firstNonFinite(): { layer: number; flat: number } | null {
    for (let l = 0; l < this.#s.length; l++) {
      const i = this.#be.findNonFinite(this.#s[l] as Matrix);
      if (i >= 0) return { layer: l + 1, flat: i };
    }
    return null;
  }

  /**
   * Runs one phase from the current state. When the final state holds a non-finite value,
   * `restart` puts the phase's starting state back and the phase is replayed, checking
   * every step, and an
   * `HTS_NON_FINITE_STATE` error names the phase, the first bad step, the layer, the
   * neuron and the example.
   */
  relax(options: RelaxOptions, restart: () => void): RelaxResult {
    const { steps, beta } = options;
    const tol = options.tolerance ?? 0;
    let taken = 0;
    let residual = Number.NaN;
    const onStep = options.onStep;
    // In the sync order a step's work buffers hold the velocity at the state it started
    // from, whose dt-free residual is then a reduction away, without a second drive.
    const fromStep = tol > 0 && (this.order === "sync" || this.#s.length === 1);
    for (let t = 1; t <= steps; t++) {
      this.#step(beta);
      taken = t;
      onStep?.(t);
      if (tol > 0) {
        const r = fromStep ? this.#stepResidual() : this.residual(beta);
        if (!fromStep) residual = r;
        if (r < tol) break;
      }
    }
    // A non-finite state makes the last step's size NaN or infinite (Inf - Inf, NaN - x and
    // Inf - x are), so after a step that size alone says whether every state is finite.
    const stepSize = steps > 0 ? this.#stepSize() : 0;
    if (steps > 0 ? !Number.isFinite(stepSize) : this.#firstNonFinite() !== null) this.#locate(restart, options);
    if ((tol <= 0 && (options.residual ?? true)) || fromStep) residual = this.residual(beta);
    return { steps: taken, residual, stepSize };
  }

  #locate(restart: () => void, options: RelaxOptions): never {
    restart();
    for (let t = 1; t <= options.steps; t++) {
      this.#step(options.beta);
      const bad = this.#firstNonFinite();
      if (bad) {
        const n = (this.#s[bad.layer - 1] as Matrix).cols;
        const neuron = bad.flat % n;
        const example = Math.floor(bad.flat / n);
        const value = this.#be.read(this.#s[bad.layer - 1] as Matrix)[bad.flat] as number;
        throw new EpError(
          "HTS_NON_FINITE_STATE",
          `non-finite state in the ${options.phase} phase at step ${t}: layer ${bad.layer}, neuron ${neuron}, example ${example} is ${value} (the run diverged; lower the learning rates, beta or dt)`,
          { location: { phase: options.phase, step: t, layer: bad.layer, neuron, index: example, value } },
        );
      }
    }
    throw new EpError("HTS_NON_FINITE_STATE", `non-finite state in the ${options.phase} phase (not reproducible on replay)`, {
      location: { phase: options.phase, step: options.steps, layer: 0, neuron: -1, index: -1, value: Number.NaN },
    });
  }
}

