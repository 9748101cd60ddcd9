import type { BoundCost, BoundEnergy } from "@hts/energy";
import { type ActivationKind, activationRange, type Backend, type Matrix } from "@hts/kernels";
import { EpError } from "./errors.js";

/** The two update rules of SPEC section 3. */
export const DYNAMICS = ["leaky", "gradient"] as const;
/** An update rule's name. */
export type Dynamics = (typeof DYNAMICS)[number];

/** What a relaxation did. */
export interface RelaxResult {
  /** Steps taken (fewer than asked when the tolerance stopped it early). */
  readonly steps: number;
  /** Largest absolute state change of the last step. */
  readonly residual: number;
}

/** Options of {@link Relaxer.relax}. */
export interface RelaxOptions {
  /** Phase name used in error messages (`free`, `nudged`, ...). */
  readonly phase: string;
  readonly steps: number;
  /** Nudging strength (0 in the free phase). */
  readonly beta: number;
  /** Stop early when the largest state change of a step falls below this (0: never). */
  readonly tolerance?: number;
}

/**
 * Relaxes a minibatch state with per-neuron explicit Euler steps, all layers at once from
 * the previous state:
 * - gradient: s <- clip(s - dt (.) dF/ds, range of rho), F = E + beta C;
 * - leaky: s <- s + dt (.) (rho(u) - s), u the energy's drive, with u_L - beta dC/ds_L.
 * All buffers are allocated once; a step allocates nothing and reads nothing back unless a
 * tolerance is set (then one number per step).
 */
export class Relaxer {
  readonly batch: number;
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

  constructor(
    backend: Backend,
    energy: BoundEnergy,
    cost: BoundCost,
    dt: readonly Matrix[],
    dynamics: Dynamics,
    activation: ActivationKind,
    sizes: readonly number[],
  ) {
    this.batch = energy.batch;
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

  #step(beta: number): void {
    const be = this.#be;
    const L = this.#s.length;
    const s = this.#s;
    const work = this.#work;
    const top = L - 1;
    if (this.#dynamics === "gradient") {
      this.#energy.stateGradient(s, work);
      if (beta !== 0) {
        this.#cost.gradient(s[top] as Matrix, this.#target as Matrix, this.#costGrad);
        be.axpby(1, work[top] as Matrix, beta, this.#costGrad, work[top] as Matrix);
      }
      for (let l = 0; l < L; l++) {
        be.eulerStep(s[l] as Matrix, work[l] as Matrix, this.#dt[l] as Matrix, this.#next[l] as Matrix, {
          scale: -1,
          clip: this.#range,
        });
      }
    } else {
      this.#energy.drive(s, work);
      if (beta !== 0) {
        this.#cost.gradient(s[top] as Matrix, this.#target as Matrix, this.#costGrad);
        be.axpby(1, work[top] as Matrix, -beta, this.#costGrad, work[top] as Matrix);
      }
      for (let l = 0; l < L; l++) {
        const w = work[l] as Matrix;
        be.activate(this.#kind, w, w);
        be.axpby(1, w, -1, s[l] as Matrix, w);
        be.eulerStep(s[l] as Matrix, w, this.#dt[l] as Matrix, this.#next[l] as Matrix);
      }
    }
    const t = this.#s;
    this.#s = this.#next;
    this.#next = t;
  }

  /** Largest |s - s_previous| of the last step (reads back). */
  #residual(): number {
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
    let residual = 0;
    for (let t = 1; t <= steps; t++) {
      this.#step(beta);
      taken = t;
      if (tol > 0) {
        residual = this.#residual();
        if (residual < tol) break;
      }
    }
    if (steps > 0 && tol <= 0) residual = this.#residual();
    if (Number.isNaN(residual) || this.#firstNonFinite() !== null) this.#locate(restart, options);
    return { steps: taken, residual };
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
