/**
 * Example: your own energy. The Hopfield energy plus a state penalty,
 *     E'(s) = E(s) + (lambda / 2) sum_l ||s_l||^2,
 * which pulls every state toward 0 (a "leak" of strength lambda). It wraps the built-in
 * energy through the public `Energy` interface, passes the gradient checks of
 * `@hts/energy/testing`, and trains without any change to the trainer.
 */
import { loadEmbedded } from "@hts/datasets/node";
import { createRng } from "@hts/distributions";
import { type BoundEnergy, type Energy, hopfieldEnergy } from "@hts/energy";
import { checkEnergy } from "@hts/energy/testing";
import { createCost } from "@hts/energy";
import { createNetwork, createTrainer } from "@hts/ep";
import { createCpuBackend, type Matrix } from "@hts/kernels";

export function penalisedHopfield(lambda: number): Energy {
  if (!(lambda >= 0)) throw new Error(`penalisedHopfield: lambda must be >= 0, got ${lambda}`);
  const base = hopfieldEnergy();
  return {
    name: `hopfield+l2(${lambda})`,
    activation: base.activation,
    bind(backend, params, batch): BoundEnergy {
      const inner = base.bind(backend, params, batch);
      return {
        batch,
        setInput: (x: Matrix) => inner.setInput(x),
        value(state) {
          let penalty = 0;
          for (const s of state) penalty += backend.dot(s, s);
          return inner.value(state) + (0.5 * lambda * penalty) / batch;
        },
        stateGradient(state, out) {
          inner.stateGradient(state, out);
          state.forEach((s, l) => {
            backend.axpby(1, out[l] as Matrix, lambda, s, out[l] as Matrix);
          });
        },
        // The leaky rule's target: with the hard sigmoid, the fixed point of E' is
        // s = rho(drive / (1 + lambda)).
        drive(state, out) {
          inner.drive(state, out);
          for (const m of out) backend.axpby(1 / (1 + lambda), m, 0, m, m);
        },
        paramGradient: (state, out, options) => inner.paramGradient(state, out, options),
      };
    },
  };
}

export async function main(log: (s: string) => void = console.log): Promise<{ kitOk: boolean; accuracy: number }> {
  const energy = penalisedHopfield(0.05);
  const report = checkEnergy(energy);
  for (const c of report.checks) log(`${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
  const data = await loadEmbedded({ trainSize: 2000, testSize: 500 });
  const backend = createCpuBackend();
  const seed = createRng(0);
  const network = createNetwork({ backend, sizes: [784, 100, 10], dt: 0.3, weightRng: seed });
  const trainer = createTrainer({
    network,
    energy,
    cost: createCost("mse"),
    config: { t1: 60, t2: 15, beta: 0.5, nudge: "one-sided", dynamics: "gradient", batch: 20, optimizer: { name: "sgd", lr: [0.1, 0.05] } },
  });
  trainer.trainEpoch(data.train, Uint32Array.from({ length: data.train.count }, (_, i) => i));
  const { accuracy } = trainer.evaluate(data.test);
  log(`${energy.name}: test accuracy ${(100 * accuracy).toFixed(1)}% after one epoch`);
  return { kitOk: report.ok, accuracy };
}
