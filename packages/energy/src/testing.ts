import { createReferenceBackend, type Matrix } from "@hts/kernels";
import { type CheckReport, type CheckResult, seededUniform } from "@hts/kernels/testing";
import type { Cost } from "./cost.js";
import type { Energy } from "./energy.js";
import { allocParamGradients, allocState, type NetworkParams } from "./params.js";

// A kit's report has the same form in every package: one result per invariant.
export type { CheckReport, CheckResult };

/** Options of the gradient checks. */
export interface GradientCheckOptions {
  /** Layer sizes of the small test network (default [5, 4, 3, 2]). */
  readonly sizes?: readonly number[];
  /** Batch size (default 3). */
  readonly batch?: number;
  /** Seed of the test data (default 7). */
  readonly seed?: number;
  /** Central-difference step (default 1e-6). */
  readonly h?: number;
  /** Allowed |fd - analytic| <= tolerance (1 + |fd|) (default 1e-6). */
  readonly tolerance?: number;
  /** Range the random states are drawn from (default [0.1, 0.9], away from the hard sigmoid's kinks). */
  readonly stateRange?: readonly [number, number];
}

/**
 * Checks an {@link Energy}, yours included, in float64 on the reference backend, on a small
 * random network and minibatch: the state gradient and the parameter gradients against
 * central finite differences of `value`; the `drive` the leaky rule uses against the state
 * gradient (dE/ds_l = c_l (s_l - a'(s_l) (.) u_l) with c_l > 0 per layer, a the energy's
 * rate, or the identity when states are rates: the leaky fixed point s = rho(u) is where the
 * gradient vanishes); `drive` and `stateGradient` for odd and even layers against their
 * values for all layers; `paramGradient`'s `scale` and `accumulate` options; and, where the
 * energy has it, `paramGradientDifference` against two `paramGradient` calls. Returns a
 * report instead of throwing.
 */
export function checkEnergy(energy: Energy, options: GradientCheckOptions = {}): CheckReport {
  const sizes = options.sizes ?? [5, 4, 3, 2];
  const B = options.batch ?? 3;
  const h = options.h ?? 1e-6;
  const tol = options.tolerance ?? 1e-6;
  const [lo, hi] = options.stateRange ?? [0.1, 0.9];
  const be = createReferenceBackend();
  const r = seededUniform(options.seed ?? 7);
  const W: Matrix[] = [];
  const b: Matrix[] = [];
  for (let l = 1; l < sizes.length; l++) {
    const n0 = sizes[l - 1] as number;
    const n1 = sizes[l] as number;
    W.push(be.matrix(n0, n1, Array.from({ length: n0 * n1 }, () => r() - 0.5)));
    b.push(be.matrix(1, n1, Array.from({ length: n1 }, () => 0.2 * (r() - 0.5))));
  }
  const params: NetworkParams = { sizes, W, b };
  const x = be.matrix(B, sizes[0] as number, Array.from({ length: B * (sizes[0] as number) }, () => r()));
  const state = allocState(be, sizes, B);
  for (const s of state) be.write(s, Array.from({ length: s.rows * s.cols }, () => lo + (hi - lo) * r()));
  const bound = energy.bind(be, params, B);
  bound.setInput(x);
  const nudge = (m: Matrix, i: number, d: number) => {
    const v = be.read(m);
    v[i] = (v[i] as number) + d;
    be.write(m, v);
  };
  const checks: CheckResult[] = [];
  let worst = 0;
  let where = "";
  const grad = allocState(be, sizes, B);
  bound.stateGradient(state, grad);
  state.forEach((s, l) => {
    const g = be.read(grad[l] as Matrix);
    for (let i = 0; i < g.length; i++) {
      nudge(s, i, h);
      const ep = bound.value(state);
      nudge(s, i, -2 * h);
      const em = bound.value(state);
      nudge(s, i, h);
      const fd = ((ep - em) / (2 * h)) * B;
      const err = Math.abs(fd - (g[i] as number)) / (1 + Math.abs(fd));
      if (!(err <= worst)) {
        worst = err;
        where = `layer ${l + 1}, entry ${i}: analytic ${g[i]}, finite difference ${fd}`;
      }
    }
  });
  checks.push({ name: "state gradient", ok: worst <= tol, detail: `worst relative error ${worst.toExponential(2)}${where ? ` (${where})` : ""}` });

  worst = 0;
  where = "";
  const grads = allocParamGradients(be, sizes);
  bound.paramGradient(state, grads);
  const pairs: [string, Matrix, Matrix][] = [
    ...W.map((w, i) => [`W${i + 1}`, w, grads.W[i] as Matrix] as [string, Matrix, Matrix]),
    ...b.map((v, i) => [`b${i + 1}`, v, grads.b[i] as Matrix] as [string, Matrix, Matrix]),
  ];
  for (const [name, p, gm] of pairs) {
    const g = be.read(gm);
    for (let i = 0; i < g.length; i++) {
      nudge(p, i, h);
      bound.setInput(x);
      const ep = bound.value(state);
      nudge(p, i, -2 * h);
      bound.setInput(x);
      const em = bound.value(state);
      nudge(p, i, h);
      bound.setInput(x);
      const fd = (ep - em) / (2 * h);
      const err = Math.abs(fd - (g[i] as number)) / (1 + Math.abs(fd));
      if (!(err <= worst)) {
        worst = err;
        where = `${name}[${i}]: analytic ${g[i]}, finite difference ${fd}`;
      }
    }
  }
  checks.push({ name: "parameter gradient", ok: worst <= tol, detail: `worst relative error ${worst.toExponential(2)}${where ? ` (${where})` : ""}` });

  // The drive the leaky rule uses: for the layered form E = c/2 sum ||s_l||^2 - Psi(a(s)),
  // dE/ds_l = c_l (s_l - a'(s_l) (.) u_l) with a the energy's rate (the identity when states
  // are rates) and c_l > 0 one number per layer (1 for the built-ins): then the leaky rule's
  // fixed point s = rho(u) is where the gradient vanishes.
  const rate = energy.rate === undefined ? energy.activation : energy.rate;
  const u = allocState(be, sizes, B);
  bound.drive(state, u);
  worst = 0;
  where = "";
  state.forEach((sm, l) => {
    const sv = be.read(sm);
    const g = be.read(grad[l] as Matrix);
    const uv = be.read(u[l] as Matrix);
    let da: ArrayLike<number> = new Float64Array(sv.length).fill(1);
    if (rate !== null) {
      const d = be.matrix(sm.rows, sm.cols);
      be.activateDerivative(rate, sm, d);
      da = be.read(d);
    }
    const r = Array.from(sv, (v, i) => v - (da[i] as number) * (uv[i] as number));
    const rr = r.reduce((acc, v) => acc + v * v, 0);
    const c = rr > 0 ? r.reduce((acc, v, i) => acc + v * (g[i] as number), 0) / rr : 1;
    if (!(c > 0)) {
      worst = Number.POSITIVE_INFINITY;
      where = `layer ${l + 1}: the state gradient is not a positive multiple of s - a'(s) u (best factor ${c})`;
      return;
    }
    for (let i = 0; i < sv.length; i++) {
      const want = c * (r[i] as number);
      const err = Math.abs(want - (g[i] as number)) / (1 + Math.abs(want));
      if (!(err <= worst)) {
        worst = err;
        where = `layer ${l + 1}, entry ${i}: ${c === 1 ? "" : `${c.toPrecision(6)} x `}(s - a'(s) u) = ${want}, state gradient ${g[i]}`;
      }
    }
  });
  checks.push({
    name: "drive",
    ok: worst <= tol,
    detail: `state gradient vs a positive multiple of s - a'(s) (.) drive (a = ${rate ?? "identity"}): worst relative error ${worst.toExponential(2)}${where ? ` (${where})` : ""}`,
  });

  // Layer parity: the asked layers equal their values from a call for all layers.
  const parityErrors: string[] = [];
  for (const method of ["drive", "stateGradient"] as const) {
    const full = method === "drive" ? u : grad;
    for (const parity of ["odd", "even"] as const) {
      const part = allocState(be, sizes, B);
      bound[method](state, part, parity);
      for (let l = 1; l <= part.length; l++) {
        if ((parity === "odd") !== (l % 2 === 1)) continue;
        const a = be.read(part[l - 1] as Matrix);
        const f = be.read(full[l - 1] as Matrix);
        const i = Array.from(a).findIndex((v, k) => Math.abs(v - (f[k] as number)) > tol * (1 + Math.abs(f[k] as number)));
        if (i >= 0) parityErrors.push(`${method}(state, out, "${parity}") layer ${l}, entry ${i}: ${a[i]} vs ${f[i]} from "all"`);
      }
    }
  }
  checks.push({ name: "layer parity", ok: parityErrors.length === 0, detail: parityErrors.length ? (parityErrors[0] as string) : 'drive and stateGradient for "odd" and "even" layers equal their "all" values' });

  // paramGradient's scale and accumulate options.
  const flat = (g: ReturnType<typeof allocParamGradients>) => [...g.W, ...g.b].flatMap((m) => Array.from(be.read(m)));
  const plain = flat(grads);
  const scaled = allocParamGradients(be, sizes);
  bound.paramGradient(state, scaled, { scale: -2.5 });
  const acc = allocParamGradients(be, sizes);
  for (const m of [...acc.W, ...acc.b]) be.write(m, Array.from({ length: m.rows * m.cols }, (_, i) => 0.25 + 0.01 * i));
  const prior = flat(acc);
  bound.paramGradient(state, acc, { scale: 2, accumulate: true });
  const near = (a: number, b: number) => Math.abs(a - b) <= tol * (1 + Math.abs(b));
  const sBad = flat(scaled).findIndex((v, i) => !near(v, -2.5 * (plain[i] as number)));
  checks.push({ name: "scale", ok: sBad < 0, detail: sBad < 0 ? "paramGradient({ scale: -2.5 }) is -2.5 times the gradient" : `entry ${sBad}: ${flat(scaled)[sBad]} vs -2.5 x ${plain[sBad]}` });
  const accFlat = flat(acc);
  const aBad = accFlat.findIndex((v, i) => !near(v, (prior[i] as number) + 2 * (plain[i] as number)));
  checks.push({
    name: "accumulate",
    ok: aBad < 0,
    detail: aBad < 0 ? "paramGradient({ scale: 2, accumulate: true }) adds 2 times the gradient to out" : `entry ${aBad}: ${accFlat[aBad]} vs ${prior[aBad]} + 2 x ${plain[aBad]}`,
  });

  // paramGradientDifference, where the energy has it: scale (g(plus) - g(minus)), overwriting out.
  if (bound.paramGradientDifference) {
    const other = allocState(be, sizes, B);
    for (const m of other) be.write(m, Array.from({ length: m.rows * m.cols }, () => lo + (hi - lo) * r()));
    const minusGrads = allocParamGradients(be, sizes);
    bound.paramGradient(other, minusGrads);
    const minusFlat = flat(minusGrads);
    const diff = allocParamGradients(be, sizes);
    for (const m of [...diff.W, ...diff.b]) be.write(m, Array.from({ length: m.rows * m.cols }, () => 7));
    bound.paramGradientDifference(state, other, diff, { scale: -1.5, accumulate: true });
    const diffFlat = flat(diff);
    const want = plain.map((v, i) => -1.5 * (v - (minusFlat[i] as number)));
    const dBad = diffFlat.findIndex((v, i) => !near(v, want[i] as number));
    checks.push({
      name: "difference",
      ok: dBad < 0,
      detail: dBad < 0 ? "paramGradientDifference(plus, minus, out, { scale: -1.5 }) overwrites out with -1.5 (g(plus) - g(minus))" : `entry ${dBad}: ${diffFlat[dBad]} vs -1.5 x (${plain[dBad]} - ${minusFlat[dBad]})`,
    });
  }
  return { ok: checks.every((c) => c.ok), checks };
}

/** Options of {@link checkCost}. */
export interface CostCheckOptions extends GradientCheckOptions {
  /** The energy's rate the cost is bound with (default `hard-sigmoid`; null: states are rates). */
  readonly rate?: "hard-sigmoid" | "sigmoid" | "tanh" | null;
  /** Units of the layer the cost reads (default 4). */
  readonly units?: number;
  /** Classes (default: `units` without a read-out, 3 with one). */
  readonly classes?: number;
}

/**
 * Checks a {@link Cost}, yours included, in float64 on the reference backend: its state
 * gradient and, for a cost with a read-out, its parameter gradient against central finite
 * differences of its value.
 */
export function checkCost(cost: Cost, options: CostCheckOptions = {}): CheckReport {
  const B = options.batch ?? 3;
  const n = options.units ?? 4;
  const k = options.classes ?? (cost.readout ? 3 : n);
  const h = options.h ?? 1e-6;
  const tol = options.tolerance ?? 1e-6;
  const [lo, hi] = options.stateRange ?? [0.1, 0.9];
  const be = createReferenceBackend();
  const r = seededUniform(options.seed ?? 7);
  const s = be.matrix(B, n, Array.from({ length: B * n }, () => lo + (hi - lo) * r()));
  const yv = new Float64Array(B * k);
  for (let i = 0; i < B; i++) yv[i * k + Math.floor(r() * k)] = 1;
  const y = be.matrix(B, k, yv);
  const readout = cost.readout
    ? { W: be.matrix(n, k, Array.from({ length: n * k }, () => 2 * r() - 1)), b: be.matrix(1, k, Array.from({ length: k }, () => r() - 0.5)) }
    : undefined;
  const rate = options.rate === undefined ? "hard-sigmoid" : options.rate;
  const bound = cost.bind(be, { batch: B, units: n, classes: k, rate, ...(readout ? { readout } : {}) });
  const compare = (name: string, m: Matrix, analytic: ArrayLike<number>, perExample: boolean): CheckResult => {
    let worst = 0;
    let where = "";
    for (let i = 0; i < analytic.length; i++) {
      const v = be.read(m);
      const base = v[i] as number;
      v[i] = base + h;
      be.write(m, v);
      const cp = bound.value(s, y);
      v[i] = base - h;
      be.write(m, v);
      const cm = bound.value(s, y);
      v[i] = base;
      be.write(m, v);
      const fd = ((cp - cm) / (2 * h)) * (perExample ? B : 1);
      const err = Math.abs(fd - (analytic[i] as number)) / (1 + Math.abs(fd));
      if (!(err <= worst)) {
        worst = err;
        where = `entry ${i}: analytic ${analytic[i]}, finite difference ${fd}`;
      }
    }
    return { name, ok: worst <= tol, detail: `worst relative error ${worst.toExponential(2)}${where ? ` (${where})` : ""}` };
  };
  const out = be.matrix(B, n);
  bound.gradient(s, y, out);
  const checks: CheckResult[] = [compare("state gradient", s, be.read(out), true)];
  if (readout) {
    if (!bound.paramGradient) {
      checks.push({ name: "read-out gradient", ok: false, detail: "a cost with readout: true must implement paramGradient" });
    } else {
      const g = { W: be.matrix(n, k), b: be.matrix(1, k) };
      bound.paramGradient(s, y, g);
      checks.push(compare("read-out gradient W_out", readout.W, be.read(g.W), false));
      checks.push(compare("read-out gradient b_out", readout.b, be.read(g.b), false));
    }
  }
  const scores = bound.scores(s);
  const wantCols = k;
  checks.push({
    name: "scores shape",
    ok: scores.rows === B && scores.cols === wantCols,
    detail: `${scores.rows} x ${scores.cols}, expected ${B} x ${wantCols}`,
  });
  return { ok: checks.every((c) => c.ok), checks };
}
