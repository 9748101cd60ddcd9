/**
 * The throughput measurement of the bench page, the configuration of `pnpm bench`
 * (tools/bench): 784-500-10 by default, Hopfield energy with the gradient rule, one-sided
 * beta 0.5, SGD with rate 0.05, constant dt 0.3, weights from seed 0, on the raw embedded
 * digits; whole minibatches through `Trainer.trainBatch` of `@hts/ep`, cycling through the
 * digits, for at least `seconds`.
 */
import type { Dataset } from "@hts/datasets";
import { createRng } from "@hts/distributions";
import { createCost, createEnergy } from "@hts/energy";
import { createNetwork, createTrainer, type Trainer } from "@hts/ep";
import type { Backend } from "@hts/kernels";

export interface BenchSettings {
  readonly arch: readonly number[];
  readonly batch: number;
  readonly t1: number;
  readonly t2: number;
}

export interface BenchRunner {
  /** Samples per second of whole minibatches trained for at least `seconds` (and at least `minBatches`). */
  time(seconds: number, minBatches?: number): number;
}

export function benchRunner(backend: Backend, data: Dataset, s: BenchSettings): BenchRunner {
  const network = createNetwork({ backend, sizes: [...s.arch], dt: 0.3, weightRng: createRng(0) });
  const trainer: Trainer = createTrainer({
    network,
    energy: createEnergy("hopfield"),
    cost: createCost("mse"),
    config: { t1: s.t1, t2: s.t2, beta: 0.5, nudge: "one-sided", dynamics: "gradient", batch: s.batch, optimizer: { name: "sgd", lr: s.arch.slice(1).map(() => 0.05) } },
  });
  let at = 0;
  const dim = data.dim;
  return {
    time(seconds, minBatches = 1) {
      const t0 = performance.now();
      let done = 0;
      for (;;) {
        if ((at + 1) * s.batch > data.count) at = 0;
        const from = at * s.batch;
        trainer.trainBatch(data.images.subarray(from * dim, (from + s.batch) * dim), data.labels.subarray(from, from + s.batch));
        at++;
        done++;
        const elapsed = (performance.now() - t0) / 1000;
        if (done >= minBatches && elapsed >= seconds) return (done * s.batch) / elapsed;
      }
    },
  };
}
