// Kernel launches and read-backs of the GPU backend per free step, per nudged step and per
// training minibatch (T1 100, T2 20, symmetric nudging: fixed + 100 free + 40 nudged steps), from
// minibatches at T1 3 / 5 and T2 2 / 4. Under an X display, from packages/ep:
//   xvfb-run -a -s "-screen 0 1280x1024x24" node scripts/gpu-launches.mjs
import { createRng } from "@hts/distributions";
import { createCost, createEnergy } from "@hts/energy";
import { gpuForTests } from "@hts/kernels/gpu-testing";
import { createNetwork, createTrainer } from "@hts/ep";
const found = await gpuForTests();
if (found.reason !== undefined) throw new Error(`no GPU backend: ${found.reason}`);
const be = found.backend;
function per(sizes, dynamics, t1, t2) {
  const seed = createRng(1);
  const network = createNetwork({ backend: be, sizes, dt: 0.3, weightRng: seed, dtRng: seed.jump() });
  const trainer = createTrainer({ network, energy: createEnergy("hopfield"), cost: createCost("mse"), config: { t1, t2, beta: 0.5, nudge: "symmetric", dynamics, batch: 4, tolerance: 0, optimizer: { name: "sgd", lr: sizes.slice(1).map(() => 0.05) } } });
  const x = new Float32Array(4 * sizes[0]).map((_, i) => (i % 7) / 7);
  const labels = new Uint8Array([1, 2, 3, 4]);
  trainer.trainBatch(x, labels);
  const b = be.launches, r = be.readBacks;
  trainer.trainBatch(x, labels);
  return { launches: be.launches - b, readBacks: be.readBacks - r };
}
for (const sizes of [[784, 500, 10], [784, 1000, 1000, 10]]) for (const dyn of ["leaky", "gradient"]) {
  const a = per(sizes, dyn, 3, 2), f = per(sizes, dyn, 5, 2), n = per(sizes, dyn, 3, 4);
  const free = (f.launches - a.launches) / 2, nudged = (n.launches - a.launches) / 4;
  const fixed = a.launches - 3 * free - 4 * nudged;
  console.log(`${sizes.join("-")} ${dyn}: free ${free}, nudged ${nudged}, fixed ${fixed}, minibatch T1 100 T2 20 symmetric ${fixed + 100 * free + 40 * nudged}; read-backs ${a.readBacks}/${f.readBacks}/${n.readBacks}`);
}
