#!/usr/bin/env node
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadEmbedded } from "@hts/datasets/node";
import { createRng } from "@hts/distributions";
import { createCost, createEnergy } from "@hts/energy";
import { createNetwork, createTrainer, type Trainer } from "@hts/ep";
import { type Backend, type BackendPreference, createBackend, createWasmBackend } from "@hts/kernels/node";
import { choice, formatHelp, int, num, numList, type OptionTable, parseCommand, str, UsageError } from "@hts/cli";
import { parseTrainFlags, type TimeToResult, timeToAccuracy } from "./time-to.js";
import { rawSplits, referenceTimeTo } from "./torch-time-to.js";

const BENCH_OPTIONS: OptionTable = {
  arch: { type: "string", value: "SIZES", help: "Layer sizes starting with 784; several separated by ';' [default: 784,500,10;784,1000,1000,10]." },
  batch: { type: "string", value: "N", help: "Minibatch sizes, comma-separated [default: 20,64,256]." },
  t1: { type: "string", value: "N", default: "100", help: "Free-phase steps." },
  t2: { type: "string", value: "N", default: "20", help: "Nudged-phase steps." },
  backend: { type: "string", value: "NAME", default: "auto", help: "auto, wasm, cpu, gpu or reference." },
  workers: {
    type: "string",
    value: "N",
    default: "1",
    help: "Threads sharing the rows of the minibatch (wasm only; SharedArrayBuffer + worker_threads); several, e.g. 1,2, are timed alternating repeat by repeat, each with its ratio to the first.",
  },
  repeats: { type: "string", value: "N", help: "Timed repeats (the median is reported, with the min and max) [default: 5; 1 with --time-to]." },
  seconds: { type: "string", value: "S", default: "1", help: "Least time of one timed repeat, in whole minibatches." },
  data: {
    type: "string",
    value: "KIND",
    default: "digits",
    help: "The inputs; several, e.g. digits,dense, are timed alternating repeat by repeat, each with its ratio to the first: digits (the embedded digits, about 19 % of the pixels nonzero), inverted (the digits as 1 - x: every pixel but the full-ink ones, about 99 %, nonzero) or dense (uniform random pixels in [0, 1), seed 0, the digits' labels).",
  },
  "time-to": {
    type: "string",
    value: "PCT",
    help: "Instead of throughput: train the hts train defaults (with --train over them) on the embedded digits, holding out --val-size digits, and report the wall time until the validation accuracy first reaches PCT %, and the test accuracy then.",
  },
  train: { type: "string", value: "FLAGS", help: "With --time-to: hts train settings over the defaults, in one string after an equals sign, e.g. --train='--tolerance 1e-4 --persistent'." },
  "max-epochs": { type: "string", value: "N", default: "20", help: "With --time-to: epochs at most." },
  "val-size": { type: "string", value: "N", default: "1000", help: "With --time-to: validation digits held out of the training digits (unless --train gives --val-size)." },
  json: { type: "boolean", help: "One JSON object per line per configuration." },
  "compare-torch": {
    type: "boolean",
    help: "Also time the independent PyTorch reference (python3 with torch, one thread) on the same configuration and digits, alternating repeats with ours; prints both and their ratio.",
  },
  "torch-train": {
    type: "string",
    value: "FLAGS",
    help: "With --time-to --compare-torch: the reference's own flags over its defaults (T1 100, T2 20, beta 0.5, lr 0.1,0.05, batch 20, dt 0.3), after an equals sign, e.g. --torch-train='--T1 50 --T2 10'.",
  },
  "torch-script": { type: "string", value: "FILE", help: "The reference script [default: ../shared/bench/ep_torch_ref.py beside the repository]." },
};

/** FLOPs of one training sample (dense-equivalent): input projection, T1 + T2 relaxation steps, two parameter gradients. */
export function flopsPerSample(sizes: readonly number[], t1: number, t2: number): number {
  let pairs = 0;
  for (let l = 1; l < sizes.length; l++) pairs += (sizes[l - 1] as number) * (sizes[l] as number);
  const inner = pairs - (sizes[0] as number) * (sizes[1] as number);
  const input = 2 * (sizes[0] as number) * (sizes[1] as number);
  return input + (t1 + t2) * 4 * inner + 2 * 2 * pairs;
}

function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

interface Data {
  readonly images: Float32Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

/** The bench's inputs (`--data`). */
export type BenchData = "digits" | "inverted" | "dense";

/** The inputs of `--data`: the digits as they are, inverted (1 - x), or uniform random pixels (seed 0) with the digits' labels. */
export function benchImages(kind: BenchData, digits: Float32Array): Float32Array {
  if (kind === "digits") return digits;
  const out = new Float32Array(digits.length);
  if (kind === "inverted") for (let i = 0; i < out.length; i++) out[i] = 1 - (digits[i] as number);
  else {
    const rng = createRng(0);
    for (let i = 0; i < out.length; i++) out[i] = rng.uniform();
  }
  return out;
}

/** The share of nonzero entries. */
export function density(x: Float32Array): number {
  let nz = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== 0) nz++;
  return nz / x.length;
}

/** Trains whole minibatches, cycling through `data`, until `seconds` have passed; returns samples per second. */
function timed(trainer: Trainer, data: Data, batch: number, seconds: number, minBatches: number, cursor: { at: number }): number {
  const t0 = performance.now();
  let done = 0;
  for (;;) {
    if ((cursor.at + 1) * batch > data.count) cursor.at = 0;
    const from = cursor.at * batch;
    trainer.trainBatch(data.images.subarray(from * 784, (from + batch) * 784), data.labels.subarray(from, from + batch));
    cursor.at++;
    done++;
    const elapsed = (performance.now() - t0) / 1000;
    if (done >= minBatches && elapsed >= seconds) return (done * batch) / elapsed;
  }
}

/** The digits as an EPMN file (the reference's binary format: "EPMN", u32 1, u32 n, u32 d, n*d float32, n uint8). */
function writeEpmn(file: string, data: Data): void {
  const head = Buffer.alloc(16);
  head.write("EPMN", 0, "ascii");
  head.writeUInt32LE(1, 4);
  head.writeUInt32LE(data.count, 8);
  head.writeUInt32LE(784, 12);
  const pixels = Buffer.from(data.images.buffer, data.images.byteOffset, data.count * 784 * 4);
  writeFileSync(file, Buffer.concat([head, pixels, Buffer.from(data.labels.subarray(0, data.count))]));
}

interface Torch {
  readonly script: string;
  readonly dataFile: string;
}

/** One timed repeat of the reference in its bench mode; samples per second. */
function torchRepeat(t: Torch, arch: readonly number[], batch: number, t1: number, t2: number, minibatches: number): number {
  const args = [
    t.script,
    "--data",
    t.dataFile,
    "--arch",
    arch.join(","),
    "--lr",
    arch.slice(1).map(() => "0.05").join(","),
    "--batch",
    String(batch),
    "--T1",
    String(t1),
    "--T2",
    String(t2),
    "--dt",
    "0.3",
    "--threads",
    "1",
    "--bench",
    String(minibatches),
    "--bench-repeats",
    "1",
  ];
  const r = spawnSync("python3", args, { env: { ...process.env, PYENV_VERSION: process.env.PYENV_VERSION ?? "system" }, encoding: "utf8" });
  const m = /: ([0-9.]+) samples\/s/.exec(r.stdout ?? "");
  if (r.status !== 0 || !m) throw new Error(`the PyTorch reference failed (exit ${r.status}): ${(r.stderr || r.stdout || "").trim().split("\n").slice(-3).join(" | ")}`);
  return Number(m[1]);
}

function findTorch(scriptOption: string | undefined): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const script = scriptOption ?? resolve(here, "../../../../shared/bench/ep_torch_ref.py");
  if (!existsSync(script)) throw new UsageError("torch-script", `--compare-torch: no reference script at ${script} (give --torch-script FILE)`);
  const probe = spawnSync("python3", ["-c", "import torch, numpy"], {
    env: { ...process.env, PYENV_VERSION: process.env.PYENV_VERSION ?? "system" },
    encoding: "utf8",
  });
  if (probe.status !== 0) {
    throw new Error(`--compare-torch: python3 cannot import torch and numpy (${(probe.stderr ?? "").trim().split("\n").pop() ?? ""}); on Debian: apt-get install python3-torch, and PYENV_VERSION=system under pyenv`);
  }
  return script;
}

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v.toPrecision(3));

async function main(argv: readonly string[]): Promise<number> {
  const a = parseCommand("bench", argv, BENCH_OPTIONS);
  if (a.help) {
    process.stdout.write(
      formatHelp(
        "bench",
        "Training throughput (samples per second) of EP minibatches (free phase, nudged phase, update) on real embedded\ndigits: Hopfield energy, gradient rule, one-sided beta 0.5, SGD, constant dt 0.3, one thread (or --workers). After a warm-up,\nevery configuration is timed in several repeats of at least --seconds each; the median, min and max are reported,\nwith GFLOP/s counted as if every product were dense.",
        BENCH_OPTIONS,
      ),
    );
    return 0;
  }
  if (typeof a["time-to"] === "string") return timeTo(a);
  const archText = typeof a.arch === "string" ? a.arch : "784,500,10;784,1000,1000,10";
  const archs = archText.split(";").map((s) => numList({ arch: s }, "arch", (n) => Number.isInteger(n) && n >= 1, "positive integers") as number[]);
  for (const arch of archs) if (arch.length < 2 || arch[0] !== 784) throw new UsageError("arch", `--arch: expected sizes starting with 784, got ${arch.join(",")}`);
  const batches = numList(a, "batch", (n) => Number.isInteger(n) && n >= 1, "positive integers") ?? [20, 64, 256];
  const t1 = int(a, "t1", 1) as number;
  const t2 = int(a, "t2", 1) as number;
  const repeats = int(a, "repeats", 1) ?? 5;
  const workerCounts = numList(a, "workers", (n) => Number.isInteger(n) && n >= 1 && n <= 16, "integers in [1, 16]") ?? [1];
  const secondsText = typeof a.seconds === "string" ? a.seconds : "1";
  const seconds = Number(secondsText);
  if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError("seconds", `--seconds: expected a number >= 0, got ${JSON.stringify(secondsText)}`);
  const prefer = choice(a, "backend", ["auto", "wasm", "cpu", "gpu", "reference"]);
  const dataText = typeof a.data === "string" ? a.data : "digits";
  const dataKinds = dataText.split(",").map((d) => d.trim()) as BenchData[];
  for (const d of dataKinds) if (!["digits", "inverted", "dense"].includes(d)) throw new UsageError("data", `--data: expected digits, inverted or dense (or a comma-separated list of them), got ${JSON.stringify(dataText)}`);
  const json = a.json as boolean;
  const compare = a["compare-torch"] as boolean;
  if (workerCounts.length > 1 && dataKinds.length > 1) throw new UsageError("data", "--data takes one kind when --workers gives several counts");
  const several = workerCounts.length > 1 || dataKinds.length > 1;
  if (workerCounts.length > 1 && compare) throw new UsageError("workers", "--compare-torch takes one --workers count, not several");
  if (dataKinds.length > 1 && compare) throw new UsageError("data", "--compare-torch takes one --data kind, not several");
  const script = compare ? findTorch(typeof a["torch-script"] === "string" ? a["torch-script"] : undefined) : "";
  const threaded = workerCounts.some((n) => n > 1);
  if (threaded && prefer !== "wasm") throw new UsageError("workers", `--workers ${workerCounts.join(",")} needs --backend wasm`);
  // One backend per thread count (a backend's threads are fixed when it is made).
  const backends: { workers: number; backend: Backend }[] = [];
  let reason: string;
  if (threaded) {
    for (const workers of workerCounts) backends.push({ workers, backend: await createWasmBackend({ workers }) });
    reason = `wasm: requested, ${workerCounts.join(" / ")} threads`;
  } else {
    const made = await createBackend({ prefer: prefer as BackendPreference });
    backends.push({ workers: 1, backend: made.backend });
    reason = made.reason;
  }
  const backend = (backends[0] as { backend: Backend }).backend;
  const split = await loadEmbedded({ trainSize: 2048, testSize: 1 });
  const inputs = new Map(dataKinds.map((d) => [d, { ...split.train, images: benchImages(d, split.train.images) } as Data]));
  const data = inputs.get(dataKinds[0] as BenchData) as Data;
  let torch: Torch | null = null;
  const tmp = compare ? mkdtempSync(join(tmpdir(), "hts-bench-")) : "";
  try {
    if (compare) {
      torch = { script, dataFile: join(tmp, "digits.epmn") };
      writeEpmn(torch.dataFile, data);
    }
    if (!json) {
      const threads = workerCounts.length > 1 ? `${workerCounts.join(" / ")} threads, alternating` : `${workerCounts[0] === 1 ? "one thread" : `${workerCounts[0]} threads`}${dataKinds.length > 1 ? ", the inputs alternating" : ""}`;
      process.stdout.write(
        `# backend ${backend.name} (${reason}); ${cpus()[0]?.model ?? "cpu"} x${availableParallelism()}; node ${process.version}; data ${dataKinds.map((d) => `${d} (${(100 * density((inputs.get(d) as Data).images)).toFixed(1)} % nonzero)`).join(" / ")}; T1 ${t1}, T2 ${t2}, dt 0.3, ${threads}; ${repeats} repeats of >= ${seconds} s${compare ? ", alternating with the PyTorch reference (torch, 1 thread)" : ""}\n`,
      );
      process.stdout.write(
        compare
          ? "arch                batch   ours samples/s median (min-max)   torch samples/s median (min-max)   ours/torch (min-max)\n"
          : several
            ? `arch                batch   ${dataKinds.length > 1 ? "data     " : "workers "}  samples/s median (min-max)   GFLOP/s   over the first\n`
            : "arch                batch   samples/s median (min-max)   GFLOP/s\n",
      );
    }
    for (const arch of archs) {
      for (const batch of batches) {
        const pairs = backends.flatMap(({ workers, backend: be }) => dataKinds.map((kind) => ({ workers, be, kind })));
        const runs = pairs.map(({ workers, be, kind }) => {
          const network = createNetwork({ backend: be, sizes: arch, dt: 0.3, weightRng: createRng(0) });
          const trainer = createTrainer({
            network,
            energy: createEnergy("hopfield"),
            cost: createCost("mse"),
            config: { t1, t2, beta: 0.5, nudge: "one-sided", dynamics: "gradient", batch, optimizer: { name: "sgd", lr: arch.slice(1).map(() => 0.05) } },
          });
          const cursor = { at: 0 };
          const input = inputs.get(kind) as Data;
          const warm = timed(trainer, input, batch, seconds / 2, 2, cursor);
          return { workers, be, kind, input, trainer, cursor, warm, rates: [] as number[] };
        });
        // The reference runs as many minibatches per repeat as take us about --seconds.
        const torchBatches = Math.max(2, Math.round((seconds * (runs[0] as { warm: number }).warm) / batch));
        const ref: number[] = [];
        for (let r = 0; r < repeats; r++) {
          for (const run of runs) run.rates.push(timed(run.trainer, run.input, batch, seconds, 1, run.cursor));
          if (torch) ref.push(torchRepeat(torch, arch, batch, t1, t2, torchBatches));
        }
        const first = median((runs[0] as { rates: number[] }).rates);
        const tm = torch ? median(ref) : 0;
        for (const run of runs) {
          const med = median(run.rates);
          const row: Record<string, unknown> = {
            backend: run.be.name,
            workers: run.workers,
            arch: arch.join(","),
            batch,
            data: run.kind,
            t1,
            t2,
            samplesPerSecond: med,
            min: Math.min(...run.rates),
            max: Math.max(...run.rates),
            gflops: (med * flopsPerSample(arch, t1, t2)) / 1e9,
            repeats,
          };
          if (several) row.overFirst = med / first;
          if (torch) {
            Object.assign(row, { torchSamplesPerSecond: tm, torchMin: Math.min(...ref), torchMax: Math.max(...ref), ratio: med / tm });
          }
          const o = `${fmt(med)} (${fmt(row.min as number)}-${fmt(row.max as number)})`;
          if (json) process.stdout.write(`${JSON.stringify(row)}\n`);
          else if (torch) {
            const t = `${fmt(tm)} (${fmt(row.torchMin as number)}-${fmt(row.torchMax as number)})`;
            const ratio = `${(med / tm).toFixed(2)} (${((row.min as number) / (row.torchMax as number)).toFixed(2)}-${((row.max as number) / (row.torchMin as number)).toFixed(2)})`;
            process.stdout.write(`${(row.arch as string).padEnd(19)}${String(batch).padStart(6)}   ${o.padEnd(34)}${t.padEnd(35)}${ratio}\n`);
          } else if (several) {
            process.stdout.write(
              `${(row.arch as string).padEnd(19)}${String(batch).padStart(6)}${(dataKinds.length > 1 ? `   ${run.kind.padEnd(8)} ` : String(run.workers).padStart(10))}   ${o.padEnd(29)}${(row.gflops as number).toFixed(2).padStart(7)}${(med / first).toFixed(2).padStart(17)}\n`,
            );
          } else {
            process.stdout.write(`${(row.arch as string).padEnd(19)}${String(batch).padStart(6)}   ${o.padEnd(29)}${(row.gflops as number).toFixed(2).padStart(7)}\n`);
          }
        }
      }
    }
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
  return 0;
}

/** `--time-to PCT`: runs epoch by epoch until the validation accuracy reaches PCT %; with --compare-torch the reference too, alternating. */
async function timeTo(a: ReturnType<typeof parseCommand>): Promise<number> {
  const pct = num(a, "time-to", 0) as number;
  if (!(pct > 0 && pct <= 100)) throw new UsageError("time-to", `--time-to: expected a percentage in (0, 100], got ${String(a["time-to"])}`);
  let flags: ReturnType<typeof parseTrainFlags>;
  try {
    flags = parseTrainFlags(str(a, "train") ?? "");
  } catch (e) {
    throw new UsageError("train", (e as Error).message);
  }
  const maxEpochs = int(a, "max-epochs", 1) as number;
  const valSize = int(a, "val-size", 1) as number;
  const repeats = int(a, "repeats", 1) ?? 1;
  const compare = a["compare-torch"] as boolean;
  const torchText = str(a, "torch-train") ?? "";
  if (torchText && !compare) throw new UsageError("torch-train", "--torch-train needs --compare-torch");
  const torchArgs = torchText.trim() === "" ? [] : torchText.trim().split(/\s+/);
  for (const w of torchArgs) {
    if (["--data", "--idx", "--train-n", "--test-n", "--epochs", "--threads", "--bench", "--json", "--save", "--init"].includes(w)) {
      throw new UsageError("torch-train", `--torch-train: ${w} is set by the bench (the digits, their splits, the epochs and one thread), got ${JSON.stringify(torchText)}`);
    }
  }
  const script = compare ? findTorch(typeof a["torch-script"] === "string" ? a["torch-script"] : undefined) : "";
  const train = str(a, "train") ?? "";
  const ours = async () => {
    try {
      return await timeToAccuracy({ target: pct / 100, flags, maxEpochs, valSize });
    } catch (e) {
      // A setting refused by the run's checks (an unknown flag, a bad value) is a usage error.
      if ((e as { code?: unknown }).code === "HTS_INVALID_ARGUMENT") throw new UsageError("train", `--train: ${(e as Error).message}`);
      throw e;
    }
  };
  const tmp = compare ? mkdtempSync(join(tmpdir(), "hts-time-to-")) : "";
  try {
    const splits = compare ? await rawSplits(flags, valSize) : null;
    const rows: { who: string; settings: string; result: TimeToResult }[] = [];
    for (let r = 0; r < repeats; r++) {
      rows.push({ who: "ours", settings: train, result: await ours() });
      if (splits) rows.push({ who: "torch", settings: torchText, result: await referenceTimeTo({ script, target: pct / 100, args: torchArgs, maxEpochs, splits, folder: tmp }) });
    }
    if (a.json) {
      for (const row of rows) process.stdout.write(`${JSON.stringify({ mode: "time-to", target: pct, who: row.who, train: row.settings, ...row.result })}\n`);
      return 0;
    }
    process.stdout.write(
      `# time to ${pct} % validation accuracy: hts train defaults${train ? ` with ${train}` : ""}, ${valSize} validation digits${compare ? `; the PyTorch reference${torchText ? ` with ${torchText}` : " with its defaults"} on the same digits (raw pixels), alternating` : ""}; ${cpus()[0]?.model ?? "cpu"}; node ${process.version}\n`,
    );
    for (const { who, result: r } of rows) {
      process.stdout.write(`${who === "ours" ? `ours (${r.backend})` : r.backend}\nepoch   seconds   validation   samples/s   free steps\n`);
      for (const p of r.points) {
        const steps = Number.isNaN(p.freeSteps) ? "-" : p.freeSteps.toFixed(1);
        process.stdout.write(`${String(p.epoch).padStart(5)}${p.seconds.toFixed(2).padStart(10)}${`${(100 * p.validationAccuracy).toFixed(2)} %`.padStart(13)}${p.samplesPerSecond.toFixed(0).padStart(12)}${steps.padStart(13)}\n`);
      }
      process.stdout.write(
        r.reached
          ? `reached ${pct} % in epoch ${r.epoch} after ${r.seconds.toFixed(2)} s; test accuracy then ${(100 * r.testAccuracy).toFixed(2)} %\n`
          : `not reached in ${r.points.length} epochs (${r.seconds.toFixed(2)} s); test accuracy after the last ${(100 * r.testAccuracy).toFixed(2)} %\n`,
      );
    }
    if (compare) {
      const secs = (who: string) => rows.filter((x) => x.who === who && x.result.reached).map((x) => x.result.seconds);
      const o = secs("ours");
      const t = secs("torch");
      if (o.length > 0 && t.length > 0) process.stdout.write(`median seconds: ours ${median(o).toFixed(2)}, torch ${median(t).toFixed(2)}; torch over ours ${(median(t) / median(o)).toFixed(2)}\n`);
    }
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
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
