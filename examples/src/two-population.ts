/**
 * Example: your own dt distribution. A two-population mixture of fast and slow neurons:
 * each neuron is "fast" with probability `fastFraction` (dt around `fast`) and "slow"
 * otherwise (dt around `slow`), each population lognormal, all clamped by the caller.
 * It implements the `Distribution` interface, passes the package's conformance kit, and
 * trains a network through the public API.
 */
import { loadEmbedded } from "@hts/datasets/node";
import { clamp, createRng, type Distribution, lognormal, type Rng } from "@hts/distributions";
import { checkDistribution } from "@hts/distributions/testing";
import { createCost, createEnergy } from "@hts/energy";
import { createNetwork, createTrainer } from "@hts/ep";
import { createCpuBackend } from "@hts/kernels";

export interface TwoPopulationParams {
  readonly fast: number;
  readonly slow: number;
  readonly cv: number;
  readonly fastFraction: number;
}

export function twoPopulation(p: TwoPopulationParams): Distribution {
  for (const [k, v] of Object.entries(p)) {
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw new Error(`twoPopulation: ${k} must be a finite number > 0, got ${v}`);
  }
  if (p.fastFraction >= 1) throw new Error(`twoPopulation: fastFraction must be < 1, got ${p.fastFraction}`);
  const fast = lognormal({ mean: p.fast, sd: p.cv * p.fast });
  const slow = lognormal({ mean: p.slow, sd: p.cv * p.slow });
  const one = new Float64Array(1);
  const mean = p.fastFraction * p.fast + (1 - p.fastFraction) * p.slow;
  const second = p.fastFraction * (p.fast ** 2 * (1 + p.cv ** 2)) + (1 - p.fastFraction) * (p.slow ** 2 * (1 + p.cv ** 2));
  return {
    name: "two-population",
    params: { ...p },
    mean,
    sd: Math.sqrt(second - mean * mean),
    sample<T extends Float64Array | Float32Array>(rng: Rng, out: T): T {
      for (let i = 0; i < out.length; i++) {
        const pick = rng.uniform() < p.fastFraction ? fast : slow;
        out[i] = (pick.sample(rng, one)[0] as number);
      }
      return out;
    },
    toJSON: () => ({ name: "two-population", params: { ...p } }),
  };
}

/** Checks the distribution with the conformance kit, then trains 784-100-10 for one epoch on 2,000 digits. */
export async function main(log: (s: string) => void = console.log): Promise<{ kitOk: boolean; accuracy: number; dtFractionFast: number }> {
  const dist = clamp(twoPopulation({ fast: 0.45, slow: 0.1, cv: 0.2, fastFraction: 0.3 }), { min: 1e-3, max: 0.5, mode: "clip" });
  const report = checkDistribution(dist, { draws: 20_000 });
  for (const c of report.checks) log(`${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
  const data = await loadEmbedded({ trainSize: 2000, testSize: 500 });
  const backend = createCpuBackend();
  const seed = createRng(0);
  const network = createNetwork({ backend, sizes: [784, 100, 10], dt: dist, weightRng: seed, dtRng: seed.jump() });
  const dt1 = backend.read(network.dt[0]!);
  const dtFractionFast = dt1.filter((v) => v > 0.25).length / dt1.length;
  const trainer = createTrainer({
    network,
    energy: createEnergy("hopfield"),
    cost: createCost("mse"),
    nudgeRng: createRng(1),
    config: { t1: 60, t2: 15, beta: 0.5, nudge: "random-sign", dynamics: "leaky", batch: 20, optimizer: { name: "sgd", lr: [0.1, 0.05] } },
  });
  trainer.trainEpoch(data.train, Uint32Array.from({ length: data.train.count }, (_, i) => i));
  const { accuracy } = trainer.evaluate(data.test);
  log(`two-population dt (${(100 * dtFractionFast).toFixed(0)}% fast neurons): test accuracy ${(100 * accuracy).toFixed(1)}% after one epoch`);
  return { kitOk: report.ok, accuracy, dtFractionFast };
}

