import {
  type ActivationKind,
  activationRange,
  type Backend,
  driveStep,
  driveStepReference,
  type FloatArray,
  gradientStep,
  gradientStepReference,
  gradientTail,
  gradientTailReference,
  heldMaxAbs,
  leakyStep,
  leakyStepReference,
  type Matrix,
  squaredErrorGradient,
  squaredErrorGradientReference,
} from "./backend.js";
import { createReferenceBackend } from "./cpu-backend.js";
import { heldMaxAbsOf } from "./host-arrays.js";

/** One primitive checked by {@link checkBackend}. */
export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The outcome of {@link checkBackend}: `ok` when every primitive agreed with the reference. */
export interface CheckReport {
  readonly ok: boolean;
  readonly checks: readonly CheckResult[];
}

/** Options of {@link checkBackend}. */
export interface CheckBackendOptions {
  /** Relative tolerance (default: 1e-5 for float32 backends, 1e-12 for float64). */
  readonly rtol?: number;
  /** Seed of the random inputs (default 1). */
  readonly seed?: number;
}

/**
 * The small deterministic generator the conformance kits draw their test data from: a
 * linear congruential sequence of numbers in [0, 1) for a 32-bit `seed`. For test data only.
 */
export function seededUniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Runs every primitive of the `Backend` interface on `backend` (yours included) and on the
 * float64 reference backend with the same inputs (rounded to float32, EP-like shapes, a
 * third of the left factors zero as with sparse pixels), and compares the results:
 * |got - ref| <= rtol (1 + |ref|), times sqrt(k) for sums of k terms. It also checks the
 * aliasing contract of `Backend` (checks named `alias ...`): each element-wise method with
 * `out` the same matrix as an input, for every allowed pattern, and the in-place sequences
 * of `@hts/energy` and `@hts/ep`, must give exactly what a separate `out` gives; `gemm` with
 * `out` aliasing `a` or `b` must throw `HTS_INVALID_ARGUMENT` with `parameter: "out"`. Returns a report
 * instead of throwing: `expect(checkBackend(mine).ok).toBe(true)`. Async, so that a backend
 * whose reads complete later (a GPU) is awaited between checks.
 */
export async function checkBackend(backend: Backend, options: CheckBackendOptions = {}): Promise<CheckReport> {
  const ref = createReferenceBackend();
  const rtol = options.rtol ?? (backend.precision === "float64" ? 1e-12 : 1e-5);
  const rnd = seededUniform(options.seed ?? 1);
  const values = (n: number, lo = -1, hi = 1, zeros = 0) =>
    Float64Array.from({ length: n }, () => (rnd() < zeros ? 0 : Math.fround(lo + (hi - lo) * rnd())));
  const checks: CheckResult[] = [];
  const pair = (rows: number, cols: number, v: Float64Array): [Matrix, Matrix] => [backend.matrix(rows, cols, v), ref.matrix(rows, cols, v)];
  const compare = (name: string, got: ArrayLike<number>, want: ArrayLike<number>, k = 1) => {
    let worst = 0;
    let at = -1;
    for (let i = 0; i < want.length; i++) {
      const w = want[i] as number;
      const g = got[i] as number;
      const err = Number.isNaN(w) && Number.isNaN(g) ? 0 : Math.abs(g - w) / (rtol * Math.sqrt(k) * (1 + Math.abs(w)));
      if (!(err <= worst)) {
        worst = err;
        at = i;
      }
    }
    const ok = got.length === want.length && worst <= 1;
    checks.push({
      name,
      ok,
      detail: ok ? `agrees (worst ${(worst * rtol).toExponential(1)} relative)` : `entry ${at}: got ${got[at]}, reference ${want[at]}`,
    });
  };
  const both = (name: string, make: (be: Backend, m: (r: Matrix, b: Matrix) => Matrix) => Matrix | number | Int32Array, k = 1) => {
    try {
      const got = make(backend, (a) => a);
      const want = make(ref, (_a, b) => b);
      const toArray = (x: Matrix | number | Int32Array, be: Backend): ArrayLike<number> =>
        typeof x === "number" ? [x] : x instanceof Int32Array ? x : (be.read(x) as FloatArray);
      compare(name, toArray(got, backend), toArray(want, ref), k);
    } catch (e) {
      checks.push({ name, ok: false, detail: `threw: ${(e as Error).message}` });
    }
  };

  const [B, n0, n1] = [12, 40, 24];
  const [x, xr] = pair(B, n0, values(B * n0, 0, 1, 0.33));
  const [w, wr] = pair(n0, n1, values(n0 * n1));
  const [s, sr] = pair(B, n1, values(B * n1, -0.2, 1.2));
  const [t, tr] = pair(B, n1, values(B * n1));
  const [bias, biasr] = pair(1, n1, values(n1));
  const [dt, dtr] = pair(1, n1, values(n1, 0.01, 0.5));
  const [u, ur] = pair(n1, B, values(n1 * B));
  const pick = (be: Backend, a: Matrix, b: Matrix) => (be === backend ? a : b);
  const out = (be: Backend, r: number, c: number) => be.matrix(r, c);

  for (const [transA, transB, a, ar, b, br, r, c, k] of [
    [false, false, x, xr, w, wr, B, n1, n0],
    [false, true, s, sr, w, wr, B, n0, n1],
    [true, false, x, xr, s, sr, n0, n1, B],
    [true, true, x, xr, u, ur, n0, n1, B],
  ] as const) {
    const init = values(r * c);
    both(`gemm transA=${transA} transB=${transB}`, (be) => {
      const o = be.matrix(r, c, init);
      be.gemm(pick(be, a, ar), pick(be, b, br), o, { transA, transB, alpha: 0.5, beta: 0.25 });
      return o;
    }, k);
  }
  both("broadcastRows", (be) => {
    const o = out(be, B, n1);
    be.broadcastRows(pick(be, bias, biasr), o);
    return o;
  });
  both("axpby", (be) => {
    const o = out(be, B, n1);
    be.axpby(0.75, pick(be, s, sr), -1.5, pick(be, t, tr), o);
    return o;
  });
  both("mul", (be) => {
    const o = out(be, B, n1);
    be.mul(pick(be, s, sr), pick(be, t, tr), o);
    return o;
  });
  for (const kind of ["hard-sigmoid", "sigmoid", "tanh"] as ActivationKind[]) {
    both(`activate ${kind}`, (be) => {
      const o = out(be, B, n1);
      be.activate(kind, pick(be, s, sr), o);
      return o;
    });
    both(`activateDerivative ${kind}`, (be) => {
      const o = out(be, B, n1);
      be.activateDerivative(kind, pick(be, s, sr), o);
      return o;
    });
  }
  both("softmaxRows", (be) => {
    const o = out(be, B, n1);
    be.softmaxRows(pick(be, t, tr), o);
    return o;
  });
  both("eulerStep (clip)", (be) => {
    const o = out(be, B, n1);
    be.eulerStep(pick(be, s, sr), pick(be, t, tr), pick(be, dt, dtr), o, { scale: -1, clip: [0, 1] });
    return o;
  });
  const sums0 = values(n1);
  both("columnSums", (be) => {
    const o = be.matrix(1, n1, sums0);
    be.columnSums(pick(be, s, sr), o, 0.5, 1);
    return o;
  }, B);
  const vel0 = values(B * n1);
  both("sgdStep (momentum, weight decay)", (be) => {
    const p = be.matrix(B, n1, be.read(pick(be, s, sr)));
    const v = be.matrix(B, n1, vel0);
    be.sgdStep(p, pick(be, t, tr), v, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    return p;
  });
  const m0 = values(B * n1, -0.1, 0.1);
  const v0 = values(B * n1, 0, 0.1);
  both("adamStep", (be) => {
    const p = be.matrix(B, n1, be.read(pick(be, s, sr)));
    const m = be.matrix(B, n1, m0);
    const v = be.matrix(B, n1, v0);
    be.adamStep(p, pick(be, t, tr), m, v, { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, step: 3 });
    return p;
  });
  both("sum", (be) => be.sum(pick(be, s, sr)), B * n1);
  both("dot", (be) => be.dot(pick(be, s, sr), pick(be, t, tr)), B * n1);
  both("maxAbsDiff", (be) => be.maxAbsDiff(pick(be, s, sr), pick(be, t, tr)));
  both("argmaxRows", (be) => be.argmaxRows(pick(be, t, tr)));
  // The gradient rule's residual: states at the bounds 0 and 1 (clipped), gradients of both
  // signs, the largest of them (2) on a state held at 0.
  const held = values(B * n1, -0.5, 1.5).map((v) => Math.min(1, Math.max(0, v)));
  const grad = values(B * n1);
  held[0] = 0;
  grad[0] = 2;
  const hs = backend.matrix(B, n1, held);
  const hg = backend.matrix(B, n1, grad);
  try {
    const want = heldMaxAbsOf(held, grad, 0, 1);
    const got = heldMaxAbs(backend, hs, hg, 0, 1);
    const nan = Float64Array.from(grad);
    nan[B * n1 - 1] = Number.NaN;
    const gotNaN = heldMaxAbs(backend, hs, backend.matrix(B, n1, nan), 0, 1);
    const ok = got === want && want < 2 && Number.isNaN(gotNaN);
    checks.push({ name: "heldMaxAbs (exact, held entries left out, NaN)", ok, detail: ok ? `${got}, the host loop's value (the held 2 left out); NaN for a NaN gradient` : `got ${got} and ${gotNaN} for a NaN gradient, want ${want} and NaN` });
  } catch (e) {
    checks.push({ name: "heldMaxAbs (exact, held entries left out, NaN)", ok: false, detail: `threw: ${(e as Error).message}` });
  }
  both("findNonFinite", (be) => {
    const m = be.matrix(2, 3, [0, 1, Number.NaN, 2, Number.POSITIVE_INFINITY, 3]);
    return be.findNonFinite(m);
  });
  both("copy and fill", (be) => {
    const o = out(be, B, n1);
    be.copy(pick(be, s, sr), o);
    const f = out(be, 2, 2);
    be.fill(f, 0.5);
    return be.sum(o) + be.sum(f);
  }, B * n1);

  // The aliasing contract: an element-wise method whose out is one of its inputs gives
  // exactly (bit for bit) what it gives with a separate out, on this backend. Each case runs
  // on fresh copies of the inputs; the non-aliased run writes into a new matrix.
  const exact = (name: string, got: FloatArray, want: FloatArray) => {
    let at = -1;
    for (let i = 0; i < want.length && at < 0; i++) if (!Object.is(got[i], want[i])) at = i;
    const ok = got.length === want.length && at < 0;
    checks.push({ name, ok, detail: ok ? "same as with a separate out" : `entry ${at}: got ${got[at]}, with a separate out ${want[at]}` });
  };
  const aliased = (name: string, inputs: readonly Matrix[], run: (args: readonly Matrix[], o: Matrix) => void, alias: readonly number[]) => {
    try {
      const fresh = () => inputs.map((m) => backend.matrix(m.rows, m.cols, backend.read(m)));
      const plain = fresh();
      const first = plain[alias[0] as number] as Matrix;
      const sep = backend.matrix(first.rows, first.cols);
      run(plain, sep);
      const want = backend.read(sep);
      const args = fresh();
      // the aliased inputs are one matrix: the first one named
      const shared = args[alias[0] as number] as Matrix;
      const withAlias = args.map((m, i) => (alias.includes(i) ? shared : m));
      run(withAlias, shared);
      exact(name, backend.read(shared), want);
      for (const m of [...plain, ...args, sep]) backend.dispose(m);
    } catch (e) {
      checks.push({ name, ok: false, detail: `threw: ${(e as Error).message}` });
    }
  };
  // Non-aliased with a === b, for the out = a = b cases: compare against a separate out of
  // the same computation on one input.
  aliased("alias axpby out=a", [s, t], ([a, b], o) => backend.axpby(0.75, a as Matrix, -1.5, b as Matrix, o), [0]);
  aliased("alias axpby out=b", [t, s], ([b, a], o) => backend.axpby(0.75, a as Matrix, -1.5, b as Matrix, o), [0]);
  aliased("alias axpby out=a=b", [s], ([a], o) => backend.axpby(0.75, a as Matrix, -1.5, a as Matrix, o), [0]);
  aliased("alias mul out=a", [s, t], ([a, b], o) => backend.mul(a as Matrix, b as Matrix, o), [0]);
  aliased("alias mul out=b", [t, s], ([b, a], o) => backend.mul(a as Matrix, b as Matrix, o), [0]);
  aliased("alias mul out=a=b", [s], ([a], o) => backend.mul(a as Matrix, a as Matrix, o), [0]);
  for (const kind of ["hard-sigmoid", "sigmoid", "tanh"] as ActivationKind[]) {
    aliased(`alias activate ${kind} out=x`, [s], ([a], o) => backend.activate(kind, a as Matrix, o), [0]);
    aliased(`alias activateDerivative ${kind} out=x`, [s], ([a], o) => backend.activateDerivative(kind, a as Matrix, o), [0]);
  }
  aliased("alias softmaxRows out=x", [t], ([a], o) => backend.softmaxRows(a as Matrix, o), [0]);
  for (const [label, opts] of [["clip", { scale: -1, clip: [0, 1] as const }], ["no clip", {}]] as const) {
    aliased(`alias eulerStep (${label}) out=s`, [s, t, dt], ([a, v, d], o) => backend.eulerStep(a as Matrix, v as Matrix, d as Matrix, o, opts), [0]);
    aliased(`alias eulerStep (${label}) out=v`, [t, s, dt], ([v, a, d], o) => backend.eulerStep(a as Matrix, v as Matrix, d as Matrix, o, opts), [0]);
    aliased(`alias eulerStep (${label}) out=s=v`, [s, dt], ([a, d], o) => backend.eulerStep(a as Matrix, a as Matrix, d as Matrix, o, opts), [0]);
  }
  aliased("alias copy dst=src", [s], ([a], o) => backend.copy(a as Matrix, o), [0]);
  // The same passes one after another with nothing read back in between (a deferred queue
  // sees them together), in place on one matrix against a fresh out at every step.
  aliased("alias chain (activate, mul, axpby, eulerStep, softmaxRows) in place", [s, t, dt, s], ([a, v, d, c], o) => {
    const x = a as Matrix;
    const y = v as Matrix;
    const z = c as Matrix;
    const steps: ((i: Matrix, r: Matrix) => void)[] = [
      (i, r) => backend.activateDerivative("hard-sigmoid", i, r),
      (i, r) => backend.mul(i, y, r),
      (i, r) => backend.axpby(1, z, -1, i, r),
      (i, r) => backend.eulerStep(i, y, d as Matrix, r, { scale: 0.5, clip: [0, 1] }),
      (i, r) => backend.activate("sigmoid", i, r),
      (i, r) => backend.axpby(1, i, -1, z, r),
      (i, r) => backend.eulerStep(z, i, d as Matrix, r),
      (i, r) => backend.softmaxRows(i, r),
    ];
    if (o === x) {
      for (const step of steps) step(o, o);
      return;
    }
    // separate outs: each step reads the previous step's result into a new matrix
    let cur = backend.matrix(x.rows, x.cols, backend.read(x));
    for (const step of steps) {
      const next = backend.matrix(x.rows, x.cols);
      step(cur, next);
      backend.dispose(cur);
      cur = next;
    }
    backend.copy(cur, o);
    backend.dispose(cur);
  }, [0]);
  // The two sequences @hts/energy and @hts/ep issue in place at every relaxation step (a
  // deferred backend may fuse them): the gradient rule n <- s - rho'(s) (.) n with its Euler
  // step, and the leaky rule w <- rho(w) - s with its Euler step; both against separate outs.
  const sequence = (name: string, run: (inPlace: boolean, st: Matrix, n: Matrix, d: Matrix, next: Matrix) => void) => {
    try {
      const results: FloatArray[] = [];
      for (const inPlace of [false, true]) {
        const st = backend.matrix(B, n1, backend.read(s));
        const nn = backend.matrix(B, n1, backend.read(t));
        const d = backend.matrix(1, n1, backend.read(dt));
        const next = backend.matrix(B, n1);
        run(inPlace, st, nn, d, next);
        results.push(backend.read(next));
        for (const m of [st, nn, d, next]) backend.dispose(m);
      }
      exact(name, results[1] as FloatArray, results[0] as FloatArray);
    } catch (e) {
      checks.push({ name, ok: false, detail: `threw: ${(e as Error).message}` });
    }
  };
  sequence("alias sequence gradient rule (mul(da, n, n), axpby(1, s, -1, n, n), eulerStep)", (inPlace, st, n, d, next) => {
    const da = backend.matrix(B, n1);
    const t1 = inPlace ? n : backend.matrix(B, n1);
    const t2 = inPlace ? n : backend.matrix(B, n1);
    for (let step = 0; step < 3; step++) {
      backend.copy(t, n); // the step's sums (a product in @hts/energy), overwritten in place below
      backend.activateDerivative("hard-sigmoid", st, da);
      backend.mul(da, n, t1);
      backend.axpby(1, st, -1, t1, t2);
      backend.eulerStep(st, t2, d, next, { scale: -1, clip: [0, 1] });
      backend.copy(next, st);
    }
    for (const m of inPlace ? [da] : [da, t1, t2]) backend.dispose(m);
  });
  sequence("alias sequence leaky rule (activate(w, w), axpby(1, w, -1, s, w), eulerStep)", (inPlace, st, w, d, next) => {
    const t1 = inPlace ? w : backend.matrix(B, n1);
    const t2 = inPlace ? w : backend.matrix(B, n1);
    for (let step = 0; step < 3; step++) {
      backend.activate("sigmoid", w, t1);
      backend.axpby(1, t1, -1, st, t2);
      backend.eulerStep(st, t2, d, next);
      backend.copy(next, st);
      backend.copy(next, w);
    }
    if (!inPlace) for (const m of [t1, t2]) backend.dispose(m);
  });
  // The fused operations: the backend's own (when it has one) must give exactly what the
  // composition of plain primitives that defines it gives on the same backend, bit for bit,
  // over a few steps the way @hts/ep and @hts/energy run them (a product with a short inner
  // dimension into the sums first, as the output layer's drive, then the fused pass and the
  // Euler step), and agree with the float64 reference within the tolerance.
  const fused = (name: string, run: (be: Backend, useFused: boolean, st: Matrix, n: Matrix, d: Matrix, next: Matrix) => Matrix | undefined) => {
    try {
      const results: FloatArray[][] = [];
      for (const useFused of [false, true]) {
        const st = backend.matrix(B, n1, backend.read(s));
        const nn = backend.matrix(B, n1, backend.read(t));
        const d = backend.matrix(1, n1, backend.read(dt));
        const next = backend.matrix(B, n1);
        const extra = run(backend, useFused, st, nn, d, next);
        results.push([backend.read(next), backend.read(nn), ...(extra ? [backend.read(extra)] : [])]);
        for (const m of [st, nn, d, next, ...(extra ? [extra] : [])]) backend.dispose(m);
      }
      const [plain, withFused] = results as [FloatArray[], FloatArray[]];
      exact(`${name}: state`, withFused[0] as FloatArray, plain[0] as FloatArray);
      exact(`${name}: work buffer`, withFused[1] as FloatArray, plain[1] as FloatArray);
      if (plain.length > 2) exact(`${name}: activation`, withFused[2] as FloatArray, plain[2] as FloatArray);
    } catch (e) {
      checks.push({ name, ok: false, detail: `threw: ${(e as Error).message}` });
    }
    both(`${name} (against the reference)`, (be, p) => {
      const st = be.matrix(B, n1, be.read(p(s, sr)));
      const nn = be.matrix(B, n1, be.read(p(t, tr)));
      const next = be.matrix(B, n1);
      run(be, true, st, nn, p(dt, dtr), next);
      return next;
    });
  };
  const k0 = 10;
  const top = values(B * k0, 0, 1, 0.3);
  const wTop = values(n1 * k0, -0.5, 0.5);
  const addend = values(B * n1, -1, 1);
  for (const kind of ["hard-sigmoid", "sigmoid", "tanh"] as ActivationKind[]) {
    fused(`fused leakyStep ${kind} = activate, axpby, eulerStep`, (be, useFused, st, w, d, next) => {
      const a = be.matrix(B, k0, top);
      const wt = be.matrix(n1, k0, wTop);
      const base = be.matrix(B, n1, be.read(w));
      for (let step = 0; step < 3; step++) {
        be.copy(base, w);
        be.gemm(a, wt, w, { transB: true, beta: 1 });
        if (useFused) leakyStep(be, kind, st, w, d, next);
        else leakyStepReference(be, kind, st, w, d, next);
        be.copy(next, st);
      }
      for (const m of [a, wt, base]) be.dispose(m);
      return undefined;
    });
    fused(`fused gradientTail ${kind} = activateDerivative, mul, axpby (then eulerStep)`, (be, useFused, st, n, d, next) => {
      const a = be.matrix(B, k0, top);
      const wt = be.matrix(n1, k0, wTop);
      const base = be.matrix(B, n1, be.read(n));
      const da = be.matrix(B, n1);
      const range = activationRange(kind);
      for (let step = 0; step < 3; step++) {
        be.copy(base, n);
        be.gemm(a, wt, n, { transB: true, beta: 1 });
        if (useFused) gradientTail(be, kind, st, n, da);
        else gradientTailReference(be, kind, st, n, da);
        be.eulerStep(st, n, d, next, { scale: -1, clip: range });
        be.copy(next, st);
      }
      for (const m of [a, wt, base, da]) be.dispose(m);
      return undefined;
    });
    for (const withAdd of [false, true]) {
      const label = withAdd ? "with add = gradientTail, axpby, eulerStep" : "= gradientTail, eulerStep";
      fused(`fused gradientStep ${kind} ${label}`, (be, useFused, st, n, d, next) => {
        const a = be.matrix(B, k0, top);
        const wt = be.matrix(n1, k0, wTop);
        const base = be.matrix(B, n1, be.read(n));
        const da = be.matrix(B, n1);
        const m = withAdd ? be.matrix(B, n1, addend) : null;
        const options = { scale: -1, clip: activationRange(kind), ...(m ? { add: { alpha: 0.5, m } } : {}) };
        for (let step = 0; step < 3; step++) {
          be.copy(base, n);
          be.gemm(a, wt, n, { transB: true, beta: 1 });
          if (useFused) gradientStep(be, kind, st, n, da, d, next, options);
          else gradientStepReference(be, kind, st, n, da, d, next, options);
          be.copy(next, st);
        }
        for (const x of [a, wt, base, da, ...(m ? [m] : [])]) be.dispose(x);
        return undefined;
      });
    }
    for (const [label, fromBase, withStep, withAct] of [
      ["n = base + a w^T", true, false, false],
      ["n += a w^T", false, false, false],
      ["n = base + a w^T, gradient step", true, true, false],
      ["n += a w^T, gradient step, activation", false, true, true],
      ["n = base + a w^T, gradient step, activation", true, true, true],
    ] as const) {
      fused(`fused driveStep ${kind} (${label}) = copy, gemm, gradientStep, activate`, (be, useFused, st, n, d, next) => {
        const a = be.matrix(B, k0, top);
        const wt = be.matrix(n1, k0, wTop);
        const base = be.matrix(B, n1, be.read(n));
        const da = be.matrix(B, n1);
        const act = withAct ? be.matrix(B, n1) : null;
        const step = withStep ? { kind, s: st, da, dt: d, out: next, act, scale: -1, clip: activationRange(kind) } : null;
        for (let i = 0; i < 3; i++) {
          if (!fromBase) be.copy(base, n);
          if (useFused) driveStep(be, a, wt, fromBase ? base : n, n, step);
          else driveStepReference(be, a, wt, fromBase ? base : n, n, step);
          if (withStep) be.copy(next, st);
          else be.eulerStep(st, n, d, next, { scale: 0.1 });
        }
        for (const m of [a, wt, base, da]) be.dispose(m);
        return act ?? undefined;
      });
    }
  }
  // The squared error's gradient, into the output (next) and added to a velocity (the work
  // buffer), as the nudged phase runs it, for each rate and the identity.
  const oneHot = Float64Array.from({ length: B * n1 }, (_, i) => (i % n1 === Math.floor(i / n1) % n1 ? 1 : 0));
  for (const rate of ["hard-sigmoid", "sigmoid", "tanh", null] as (ActivationKind | null)[]) {
    fused(`fused squaredErrorGradient ${rate ?? "identity"} = activate, axpby, activateDerivative, mul (then axpby)`, (be, useFused, st, n, _d, next) => {
      const y = be.matrix(B, n1, oneHot);
      const scratch = { r: be.matrix(B, n1), d: be.matrix(B, n1), g: be.matrix(B, n1) };
      const run = useFused ? squaredErrorGradient : squaredErrorGradientReference;
      for (let i = 0; i < 2; i++) {
        run(be, rate, st, y, next, scratch);
        run(be, rate, st, y, n, scratch, -0.5);
        be.axpby(1, st, 0.25, next, st);
      }
      for (const m of [y, scratch.r, scratch.d, scratch.g]) be.dispose(m);
      return undefined;
    });
  }
  // gemm never computes in place: out the same matrix as a or b is refused, naming `out`.
  for (const [label, run] of [
    ["out=a", (q: Matrix, r: Matrix) => backend.gemm(q, r, q)],
    ["out=b", (q: Matrix, r: Matrix) => backend.gemm(r, q, q)],
    ["out=a=b", (q: Matrix) => backend.gemm(q, q, q, { transB: true })],
  ] as const) {
    const q = backend.matrix(n1, n1, values(n1 * n1));
    const r = backend.matrix(n1, n1, values(n1 * n1));
    let detail = "not refused";
    try {
      run(q, r);
      backend.read(q);
    } catch (e) {
      const err = e as { code?: unknown; parameter?: unknown; message?: unknown };
      detail = err.code === "HTS_INVALID_ARGUMENT" && err.parameter === "out" ? "" : `threw ${String(err.code)} (parameter ${String(err.parameter)}): ${String(err.message)}`;
    }
    checks.push({ name: `alias gemm ${label} refused`, ok: detail === "", detail: detail === "" ? "refused: HTS_INVALID_ARGUMENT, parameter out" : detail });
    backend.dispose(q);
    backend.dispose(r);
  }
  return { ok: checks.every((c) => c.ok), checks };
}
