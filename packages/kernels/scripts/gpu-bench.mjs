#!/usr/bin/env node
// Times the primitives of one EP minibatch (784-500-10, batch B) on each backend that can be
// made here: the input drive s0 W1, one leaky relaxation step (the calls Relaxer makes),
// the EP outer product s0^T s1, and an SGD step, each repeated and closed by one read-back
// (a GPU queues work, so only a read measures it). Needs the built package (dist/).
// Usage: node scripts/gpu-bench.mjs [--batch 20] [--reps 50] [--backends gpu,wasm,cpu]
import { createBackend } from "../dist/node.js";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const B = Number(arg("batch", "20"));
const reps = Number(arg("reps", "50"));
const wanted = arg("backends", "gpu,wasm,cpu").split(",");
const [n0, n1, n2] = [784, 500, 10];

function rand(n, seed) {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 0.2 - 0.1;
  }
  return out;
}

function time(be, sync, fn) {
  fn();
  be.read(sync);
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) fn();
  be.read(sync);
  return (performance.now() - t0) / reps;
}

for (const prefer of wanted) {
  let choice;
  try {
    choice = await createBackend({ prefer });
  } catch (error) {
    console.log(`${prefer}: not available (${error.message})`);
    continue;
  }
  const be = choice.backend;
  const m = (r, c, seed) => be.matrix(r, c, rand(r * c, seed));
  const x = m(B, n0, 1);
  const W1 = m(n0, n1, 2);
  const W2 = m(n1, n2, 3);
  const b1 = m(1, n1, 4);
  const b2 = m(1, n2, 5);
  const dt1 = m(1, n1, 6);
  const dt2 = m(1, n2, 7);
  const s1 = m(B, n1, 8);
  const s2 = m(B, n2, 9);
  const inDrive = be.matrix(B, n1);
  const a1 = be.matrix(B, n1);
  const a2 = be.matrix(B, n2);
  const w1 = be.matrix(B, n1);
  const w2 = be.matrix(B, n2);
  const next1 = be.matrix(B, n1);
  const next2 = be.matrix(B, n2);
  const gW1 = be.matrix(n0, n1);
  const drive = time(be, inDrive, () => {
    be.broadcastRows(b1, inDrive);
    be.gemm(x, W1, inDrive, { beta: 1 });
  });
  const step = time(be, next1, () => {
    be.activate("hard-sigmoid", s1, a1);
    be.activate("hard-sigmoid", s2, a2);
    be.copy(inDrive, w1);
    be.gemm(a2, W2, w1, { transB: true, beta: 1 });
    be.broadcastRows(b2, w2);
    be.gemm(a1, W2, w2, { beta: 1 });
    for (const [w, s, dt, next] of [
      [w1, s1, dt1, next1],
      [w2, s2, dt2, next2],
    ]) {
      be.activate("hard-sigmoid", w, w);
      be.axpby(1, w, -1, s, w);
      be.eulerStep(s, w, dt, next);
    }
  });
  const outer = time(be, gW1, () => be.gemm(x, a1, gW1, { transA: true, alpha: -0.05 }));
  const sgd = time(be, W1, () => be.sgdStep(W1, gW1, null, { lr: 0.1, momentum: 0, weightDecay: 0 }));
  const gf = (flops, ms) => `${(flops / ms / 1e6).toFixed(2)} GFLOP/s`;
  console.log(`${be.name} (${choice.reason})`);
  console.log(`  input drive s0 W1 ${B}x${n0}x${n1}: ${drive.toFixed(3)} ms (${gf(2 * B * n0 * n1, drive)})`);
  console.log(`  one leaky step:              ${step.toFixed(3)} ms`);
  console.log(`  EP outer product s0^T s1:    ${outer.toFixed(3)} ms (${gf(2 * B * n0 * n1, outer)})`);
  console.log(`  SGD step on W1:              ${sgd.toFixed(3)} ms`);
  console.log(`  one minibatch (T1=100, T2=20, 2 outer products, 2 SGD): ${(drive + 120 * step + 4 * outer + 2 * sgd).toFixed(1)} ms`);
  if (typeof be.destroy === "function") await be.destroy();
}
