#!/usr/bin/env node
import { availableParallelism, cpus } from "node:os";
import { loadEmbedded } from "@hts/datasets";
import { createRng } from "@hts/distributions";
import { createCost, createEnergy } from "@hts/energy";
import { createNetwork, createTrainer } from "@hts/ep";
import { createBackend } from "@hts/kernels";
import { choice, formatHelp, int, numList, type OptionTable, parseCommand } from "./args.js";
import { UsageError } from "./usage-error.js";

const BENCH_OPTIONS: OptionTable = {
  arch: { type: "string", value: "SIZES", help: "Layer sizes; repeat the bench for several with ';' (default 784,500,10 and 784,1000,1000,10)." },
  batch: { type: "string", value: "N", help: "Minibatch sizes, comma-separated [default: 20,64,256]." },
  t1: { type: "string", value: "N", default: "100", help: "Free-phase steps." },
  t2: { type: "string", value: "N", default: "20", help: "Nudged-phase steps." },
  backend: { type: "string", value: "NAME", default: "cpu", help: "cpu or reference." },
  repeats: { type: "string", value: "N", default: "5", help: "Timed repeats (the median is reported)." },
  samples: { type: "string", value: "N", default: "1024", help: "Training samples per repeat (rounded up to whole minibatches)." },
  json: { type: "boolean", help: "One JSON object per line per measurement." },
};

/** FLOPs of one training sample: input projection, T1 + T2 relaxation steps, two parameter gradients. */
export function flopsPerSample(sizes: readonly number[], t1: number, t2: number): number {
  let pairs = 0;
  for (let l = 1; l < sizes.length; l++) pairs += (sizes[l - 1] as number) * (sizes[l] as number);
  const inner = pairs - (sizes[0] as number) * (sizes[1] as number);
  const input = 2 * (sizes[0] as number) * (sizes[1] as number);
  return input + (t1 + t2) * 4 * inner + 2 * 2 * pairs;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function main(argv: readonly string[]): Promise<number> {
  const a = parseCommand("bench", argv, BENCH_OPTIONS);
  if (a.help) {
    process.stdout.write(
      formatHelp(
        "bench",
        "Training throughput (samples per second) of one EP minibatch step: free phase, nudged phase and update,\non real embedded digits, constant dt 0.3, one thread.",
        BENCH_OPTIONS,
      ),
    );
    return 0;
  }
  const archText = typeof a.arch === "string" ? a.arch : "784,500,10;784,1000,1000,10";
  const archs = archText.split(";").map((s) => numList({ arch: s }, "arch", (n) => Number.isInteger(n) && n >= 1, "positive integers") as number[]);
  for (const arch of archs) if (arch.length < 2 || arch[0] !== 784) throw new UsageError("arch", `--arch: expected sizes starting with 784, got ${arch.join(",")}`);
  const batches = numList(a, "batch", (n) => Number.isInteger(n) && n >= 1, "positive integers") ?? [20, 64, 256];
  const t1 = int(a, "t1", 1) as number;
  const t2 = int(a, "t2", 1) as number;
  const repeats = int(a, "repeats", 1) as number;
  const samples = int(a, "samples", 1) as number;
  const { backend, reason } = await createBackend({ prefer: choice(a, "backend", ["cpu", "reference"]) });
  const json = a.json as boolean;
  const data = await loadEmbedded({ trainSize: 4096, testSize: 1 });
  if (!json) {
    process.stdout.write(`# backend ${backend.name} (${reason}); ${cpus()[0]?.model ?? "cpu"} x${availableParallelism()}; node ${process.version}; T1 ${t1}, T2 ${t2}, dt 0.3, one thread\n`);
    process.stdout.write("arch               batch   samples/s (median)   min      max      GFLOP/s\n");
  }
  for (const arch of archs) {
    for (const batch of batches) {
      const rng = createRng(0);
      const network = createNetwork({ backend, sizes: arch, dt: 0.3, weightRng: rng });
      const trainer = createTrainer({
        network,
        energy: createEnergy("hopfield"),
        cost: createCost("mse"),
        config: { t1, t2, beta: 0.5, nudge: "one-sided", dynamics: "gradient", batch, optimizer: { name: "sgd", lr: arch.slice(1).map(() => 0.05) } },
      });
      const perRepeat = Math.max(1, Math.ceil(samples / batch));
      let cursor = 0;
      const step = (n: number) => {
        for (let k = 0; k < n; k++) {
          if ((cursor + 1) * batch > data.train.count) cursor = 0;
          const from = cursor * batch;
          trainer.trainBatch(data.train.images.subarray(from * 784, (from + batch) * 784), data.train.labels.subarray(from, from + batch));
          cursor++;
        }
      };
      step(Math.max(2, Math.ceil(perRepeat / 4)));
      const rates: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const t0 = performance.now();
        step(perRepeat);
        rates.push((perRepeat * batch) / ((performance.now() - t0) / 1000));
      }
      const med = median(rates);
      const gflops = (med * flopsPerSample(arch, t1, t2)) / 1e9;
      const row = {
        backend: backend.name,
        workers: 1,
        arch: arch.join(","),
        batch,
        t1,
        t2,
        samplesPerSecond: med,
        min: Math.min(...rates),
        max: Math.max(...rates),
        gflops,
        repeats,
      };
      if (json) process.stdout.write(`${JSON.stringify(row)}\n`);
      else {
        process.stdout.write(
          `${row.arch.padEnd(19)}${String(batch).padStart(5)}   ${med.toFixed(0).padStart(10)}           ${row.min.toFixed(0).padStart(6)}   ${row.max.toFixed(0).padStart(6)}   ${gflops.toFixed(2).padStart(6)}\n`,
        );
      }
    }
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const err = e as { message?: string };
    process.stderr.write(`hts bench: ${err.message ?? String(e)}\n`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  },
);
