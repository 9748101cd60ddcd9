import { createRng, type Rng } from "@hts/distributions";
import type { Backend, Matrix } from "@hts/kernels";
import type { LabeledData } from "../src/index.js";

/** Synthetic labeled data: `count` examples of `dim` pixels in [0, 1], `classes` labels. */
export function syntheticData(count: number, dim: number, classes: number, seed: number): LabeledData {
  const rng = createRng(seed);
  const images = new Float32Array(count * dim);
  const labels = new Uint8Array(count);
  // Class-dependent prototypes plus noise, so that the task is learnable.
  const protos = Array.from({ length: classes }, () => Float32Array.from({ length: dim }, () => rng.uniform()));
  for (let i = 0; i < count; i++) {
    const c = rng.int(0, classes - 1);
    labels[i] = c;
    const p = protos[c] as Float32Array;
    for (let j = 0; j < dim; j++) images[i * dim + j] = Math.min(1, Math.max(0, (p[j] as number) + 0.3 * (rng.uniform() - 0.5)));
  }
  return { images, labels, count, dim };
}

export function read(be: Backend, m: Matrix): number[] {
  return Array.from(be.read(m));
}

export function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

export function rngs(seed: number): { weights: Rng; dt: Rng } {
  const weights = createRng(seed);
  return { weights, dt: weights.jump() };
}
