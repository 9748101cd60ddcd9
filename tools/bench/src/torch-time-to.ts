import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { LabeledData as Dataset } from "@hts/ep";
import { NODE_PLATFORM } from "@hts/kernels/node";
import { loadRunData, prepareRun, type RunFlags, runBackend, runSpecFromFlags } from "@hts/study/node";
import type { TimeToPoint, TimeToResult } from "./time-to.js";

/** The three splits of a time-to run as raw pixels in [0, 1], the reference's input. */
export interface RawSplits {
  readonly train: Dataset;
  readonly validation: Dataset;
  readonly test: Dataset;
}

/**
 * The training, validation and test digits of `timeToAccuracy` with the same `flags`, but
 * untransformed: the same seeded hold-out, so that the reference trains and validates on the
 * very examples ours does.
 */
export async function rawSplits(flags: RunFlags, valSize: number): Promise<RawSplits> {
  const spec = runSpecFromFlags({ "val-size": String(valSize), ...flags, input: "raw", backend: "cpu" });
  const run = prepareRun({ spec, data: await loadRunData(spec), backend: await runBackend("cpu", NODE_PLATFORM) });
  const validation = run.data.validation;
  if (!validation) throw new Error("time-to: no validation split was held out");
  return { train: run.data.train, validation, test: run.data.test };
}

/** Two splits, one after the other, as an EPMN file ("EPMN", u32 1, u32 n, u32 d, n*d float32, n uint8). */
export function writeEpmnPair(file: string, first: Dataset, second: Dataset): void {
  const dim = first.dim;
  const head = Buffer.alloc(16);
  head.write("EPMN", 0, "ascii");
  head.writeUInt32LE(1, 4);
  head.writeUInt32LE(first.count + second.count, 8);
  head.writeUInt32LE(dim, 12);
  const bytes = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  writeFileSync(file, Buffer.concat([head, bytes(first.images), bytes(second.images), Buffer.from(first.labels), Buffer.from(second.labels)]));
}

/** One epoch line of the reference: `epoch 3  train(running, free phase) 0.9 test 0.94  train 4.1s (1951 samples/s)  eval 0.3s`. */
export function parseReferenceEpoch(line: string): { epoch: number; accuracy: number; trainSeconds: number; samplesPerSecond: number; evalSeconds: number } | null {
  const m = /^epoch (\d+) .* test ([0-9.]+|nan) +train ([0-9.]+)s \((\d+) samples\/s\) +eval ([0-9.]+)s/.exec(line);
  if (!m) return null;
  return { epoch: Number(m[1]), accuracy: Number(m[2]), trainSeconds: Number(m[3]), samplesPerSecond: Number(m[4]), evalSeconds: Number(m[5]) };
}

/** Options of {@link referenceTimeTo}. */
export interface ReferenceTimeToOptions {
  /** The reference script (ep_torch_ref.py). */
  readonly script: string;
  /** The validation accuracy to reach, as a fraction. */
  readonly target: number;
  /** The reference's own flags over its defaults, e.g. `["--T1", "50", "--T2", "10"]`. */
  readonly args: readonly string[];
  readonly maxEpochs: number;
  readonly splits: RawSplits;
  /** A scratch folder for the data files. */
  readonly folder: string;
}

/** Runs the reference to the end or until `stop` says so (then kills it); returns its epoch lines. */
function runReference(script: string, args: readonly string[], stop: (e: NonNullable<ReturnType<typeof parseReferenceEpoch>>) => boolean): Promise<NonNullable<ReturnType<typeof parseReferenceEpoch>>[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn("python3", [script, ...args], { env: { ...process.env, PYENV_VERSION: process.env.PYENV_VERSION ?? "system" }, stdio: ["ignore", "pipe", "pipe"] });
    const epochs: NonNullable<ReturnType<typeof parseReferenceEpoch>>[] = [];
    const tail: string[] = [];
    let stopped = false;
    createInterface({ input: child.stdout }).on("line", (line) => {
      tail.push(line);
      const e = parseReferenceEpoch(line);
      if (!e || stopped) return;
      epochs.push(e);
      if (stop(e)) {
        stopped = true;
        child.kill("SIGTERM");
      }
    });
    child.stderr.on("data", (d: Buffer) => tail.push(d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (stopped || code === 0) resolvePromise(epochs);
      else reject(new Error(`the PyTorch reference failed (exit ${code}): ${tail.join("\n").trim().split("\n").slice(-3).join(" | ")}`));
    });
  });
}

/**
 * The reference's time to accuracy on the digits of our run: it trains on our training split
 * and validates on our validation split every epoch (its per-epoch "test" is that split) until
 * the target is reached; the seconds are its own training and evaluation times summed (no
 * interpreter start, no data loading, as ours). A second run of as many epochs, on the same
 * training split in the same order, evaluates the test split once.
 */
export async function referenceTimeTo(options: ReferenceTimeToOptions): Promise<TimeToResult> {
  const { splits } = options;
  const valFile = join(options.folder, "train-validation.epmn");
  const testFile = join(options.folder, "train-test.epmn");
  writeEpmnPair(valFile, splits.train, splits.validation);
  writeEpmnPair(testFile, splits.train, splits.test);
  const common = ["--threads", "1", "--train-n", String(splits.train.count)];
  // The training seconds from the samples per second (printed to 4-5 digits) rather than the rounded seconds.
  const batchAt = options.args.lastIndexOf("--batch");
  const batch = batchAt >= 0 ? Number(options.args[batchAt + 1]) : 20;
  const seen = Math.floor(splits.train.count / batch) * batch;
  const points: TimeToPoint[] = [];
  let seconds = 0;
  let reachedAt: number | null = null;
  await runReference(options.script, [...common, ...options.args, "--data", valFile, "--test-n", String(splits.validation.count), "--epochs", String(options.maxEpochs)], (e) => {
    seconds += (e.samplesPerSecond > 0 ? seen / e.samplesPerSecond : e.trainSeconds) + e.evalSeconds;
    points.push({ epoch: e.epoch, seconds, validationAccuracy: e.accuracy, samplesPerSecond: e.samplesPerSecond, freeSteps: Number.NaN });
    if (e.accuracy >= options.target) reachedAt = e.epoch;
    return reachedAt !== null;
  });
  if (points.length === 0) throw new Error("the PyTorch reference printed no epoch");
  const epochs = reachedAt ?? points.length;
  const last = await runReference(options.script, [...common, ...options.args, "--data", testFile, "--test-n", String(splits.test.count), "--epochs", String(epochs)], () => false);
  const testAccuracy = (last[last.length - 1] ?? { accuracy: Number.NaN }).accuracy;
  return { reached: reachedAt !== null, epoch: reachedAt, seconds, testAccuracy, backend: "torch (PyTorch reference, 1 thread)", points };
}
