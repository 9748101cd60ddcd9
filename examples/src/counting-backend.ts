/**
 * Example: a wrapped backend. `counting(backend)` forwards every primitive to another
 * backend and counts the calls, separating those that read values back to the host.
 * Training through it gives the same weights as the backend it wraps, and the counts show
 * that one minibatch reads back a few values per phase, not one per relaxation step.
 */
import { loadEmbedded } from "@hts/datasets/node";
import { createRng } from "@hts/distributions";
import { createCost, createEnergy } from "@hts/energy";
import { createNetwork, createTrainer, snapshotNetwork } from "@hts/ep";
import { type Backend, createCpuBackend } from "@hts/kernels";

const READ_BACKS = new Set(["read", "sum", "dot", "maxAbsDiff", "findNonFinite", "argmaxRows"]);

export function counting(inner: Backend): { backend: Backend; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const backend = new Proxy(inner, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        counts.set(String(key), (counts.get(String(key)) ?? 0) + 1);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { backend, counts };
}

export async function main(log: (s: string) => void = console.log) {
  const data = await loadEmbedded({ trainSize: 200, testSize: 10 });
  const run = (backend: Backend) => {
    const seed = createRng(0);
    const network = createNetwork({ backend, sizes: [784, 50, 10], dt: 0.3, weightRng: seed });
    const trainer = createTrainer({
      network,
      energy: createEnergy("hopfield"),
      cost: createCost("mse"),
      config: { t1: 40, t2: 10, beta: 0.5, nudge: "one-sided", dynamics: "leaky", batch: 20, optimizer: { name: "sgd", lr: [0.1, 0.05] } },
    });
    return { network, trainer };
  };
  const plain = run(createCpuBackend());
  const { backend, counts } = counting(createCpuBackend());
  const wrapped = run(backend);
  const x = data.train.images.subarray(0, 20 * 784);
  const y = data.train.labels.subarray(0, 20);
  plain.trainer.trainBatch(x, y);
  counts.clear();
  wrapped.trainer.trainBatch(x, y);
  const readBacks = [...counts].filter(([k]) => READ_BACKS.has(k)).reduce((s, [, n]) => s + n, 0);
  const total = [...counts.values()].reduce((s, n) => s + n, 0);
  const a = snapshotNetwork(plain.network);
  const b = snapshotNetwork(wrapped.network);
  const same = a.W.every((w, l) => w.every((v, i) => v === b.W[l]![i]));
  log(`one minibatch (T1 40 + T2 10 steps): ${total} backend calls, ${readBacks} of them read back; same weights as unwrapped: ${same}`);
  return { total, readBacks, same, counts };
}
