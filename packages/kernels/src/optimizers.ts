/**
 * The optimizer formulas, written once. Every backend's `sgdStep` and `adamStep` is this
 * definition: the CPU backends run these loops on their arrays, the WebAssembly kernels and
 * the GPU shaders are transcriptions of them that the conformance kit
 * (`@hts/kernels/testing`, checkBackend) compares with these loops run in float64.
 */
import type { AdamStepOptions, FloatArray, SgdStepOptions } from "./backend.js";

/** Adam's bias corrections `[1 - beta1^t, 1 - beta2^t]` for the 1-based step t. */
export function adamBiasCorrections(options: Pick<AdamStepOptions, "beta1" | "beta2" | "step">): readonly [number, number] {
  return [1 - options.beta1 ** options.step, 1 - options.beta2 ** options.step];
}

/**
 * One SGD step on host arrays, in place, entries [from, to):
 * `g = grad + weightDecay p`; with a velocity `v = momentum v + g` and `g = v`; `p = p - lr g`.
 * The arithmetic is JavaScript's (float64), rounded on store to the arrays' precision.
 */
export function sgdStepArrays(p: FloatArray, grad: ArrayLike<number>, velocity: FloatArray | null, o: SgdStepOptions, from = 0, to = p.length): void {
  for (let i = from; i < to; i++) {
    let g = (grad[i] as number) + o.weightDecay * (p[i] as number);
    if (velocity !== null) {
      g = o.momentum * (velocity[i] as number) + g;
      velocity[i] = g;
    }
    p[i] = (p[i] as number) - o.lr * g;
  }
}

/**
 * One Adam step (Kingma and Ba, Algorithm 1, with the L2 term `weightDecay p` added to the
 * gradient) on host arrays, in place, entries [from, to):
 * `m = beta1 m + (1 - beta1) g`, `v = beta2 v + (1 - beta2) g^2`,
 * `p = p - lr (m / c1) / (sqrt(v / c2) + epsilon)` with {@link adamBiasCorrections} c1, c2.
 */
export function adamStepArrays(p: FloatArray, grad: ArrayLike<number>, m: FloatArray, v: FloatArray, o: AdamStepOptions, from = 0, to = p.length): void {
  const [c1, c2] = adamBiasCorrections(o);
  for (let i = from; i < to; i++) {
    const g = (grad[i] as number) + o.weightDecay * (p[i] as number);
    const mi = o.beta1 * (m[i] as number) + (1 - o.beta1) * g;
    const vi = o.beta2 * (v[i] as number) + (1 - o.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    p[i] = (p[i] as number) - (o.lr * (mi / c1)) / (Math.sqrt(vi / c2) + o.epsilon);
  }
}
