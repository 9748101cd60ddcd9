#!/usr/bin/env node
// Where the time of a multi-threaded wasm-f32 minibatch goes: trains the bench's
// configuration (784-500-10, T1 100, T2 20, gradient rule, one-sided, raw embedded digits)
// and reports the wall time, the time inside the thread rounds (every thread working on
// shared rows) and the time outside them (the backend's thread alone: queueing operations,
// read-backs, checks), with the rounds grouped by shape (operations x rows / block).
//   node tools/bench/scripts/thread-rounds.mjs [WORKERS] [BATCH]     (after `pnpm build`)
import { loadEmbedded } from "@hts/datasets/node";
import { createRng } from "@hts/distributions";
import { createCost, createEnergy } from "@hts/energy";
import { createNetwork, createTrainer } from "@hts/ep";
import { createWasmBackend } from "@hts/kernels/node";
import { WorkerCrew } from "../../../packages/kernels/dist/wasm-threads.js";

const workers = Number(process.argv[2] ?? 2);
const batch = Number(process.argv[3] ?? 64);
const rounds = new Map();
const original = WorkerCrew.prototype.round;
WorkerCrew.prototype.round = function (count, rows, block, threads, lists, local) {
  const start = performance.now();
  original.call(this, count, rows, block, threads, lists, local);
  const key = `${count} x ${rows} / ${block}`;
  const entry = rounds.get(key) ?? { n: 0, ms: 0 };
  entry.n++;
  entry.ms += performance.now() - start;
  rounds.set(key, entry);
};
const { train } = await loadEmbedded();
const backend = await createWasmBackend({ workers });
const network = createNetwork({ backend, sizes: [784, 500, 10], dt: 0.3, weightRng: createRng(0) });
const trainer = createTrainer({
  network,
  energy: createEnergy("hopfield"),
  cost: createCost("mse"),
  config: { t1: 100, t2: 20, beta: 0.5, nudge: "one-sided", dynamics: "gradient", batch, optimizer: { name: "sgd", lr: [0.05, 0.05] } },
});
const count = Math.floor(train.count / batch);
const step = (i) => trainer.trainBatch(train.images.subarray(i * batch * 784, (i + 1) * batch * 784), train.labels.subarray(i * batch, (i + 1) * batch));
for (let i = 0; i < 20; i++) step(i % count);
rounds.clear();
const minibatches = Math.floor(12_000 / batch);
const start = performance.now();
for (let j = 0; j < minibatches; j++) step(j % count);
const wall = performance.now() - start;
const inRounds = [...rounds.values()].reduce((a, r) => a + r.ms, 0);
console.log(`${workers} thread(s), batch ${batch}: ${Math.round((minibatches * batch * 1000) / wall)} samples/s; wall ${wall.toFixed(0)} ms, in rounds ${inRounds.toFixed(0)} ms, outside ${(wall - inRounds).toFixed(0)} ms (${((100 * (wall - inRounds)) / wall).toFixed(1)} %)`);
for (const [key, r] of [...rounds.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 6)) {
  console.log(`  ${key.padEnd(16)} ${String(r.n).padStart(5)} rounds ${r.ms.toFixed(0).padStart(6)} ms`);
}
process.exit(0);
