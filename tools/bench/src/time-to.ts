import { NODE_PLATFORM } from "@hts/kernels/node";
import { loadRunData, prepareRun, type RunFlags, runBackend, runSpecFromFlags } from "@hts/study/node";

/** Options of {@link timeToAccuracy}. */
export interface TimeToOptions {
  /** The validation accuracy to reach, as a fraction (0.94). */
  readonly target: number;
  /** `hts train` settings over its defaults (flag names without dashes), e.g. `{ tolerance: "1e-4" }`. */
  readonly flags: RunFlags;
  /** Epochs at most. */
  readonly maxEpochs: number;
  /** Validation examples held out of the training digits, unless the flags give `val-size`. */
  readonly valSize: number;
}

/** One epoch on the way. */
export interface TimeToPoint {
  readonly epoch: number;
  /** Wall-clock seconds from the first minibatch to the end of this epoch's validation. */
  readonly seconds: number;
  readonly validationAccuracy: number;
  readonly samplesPerSecond: number;
  readonly freeSteps: number;
}

/** What {@link timeToAccuracy} measured. */
export interface TimeToResult {
  readonly reached: boolean;
  /** The first epoch whose validation accuracy reached the target, else null. */
  readonly epoch: number | null;
  /** Seconds to that epoch (training and validation), else the seconds of every epoch run. */
  readonly seconds: number;
  /** The test accuracy of the network at that epoch (or after the last one). */
  readonly testAccuracy: number;
  readonly backend: string;
  readonly points: readonly TimeToPoint[];
}

/**
 * Trains `hts train`'s defaults (with `flags` over them) on their data set, holding out a
 * validation split, epoch by epoch until the validation accuracy first reaches `target`;
 * then evaluates the test split once. The time counts training and the per-epoch
 * validation, not loading the data or composing the run.
 */
export async function timeToAccuracy(options: TimeToOptions): Promise<TimeToResult> {
  const spec = runSpecFromFlags({ "val-size": String(options.valSize), epochs: String(options.maxEpochs), ...options.flags });
  const choice = await runBackend(spec.backend, NODE_PLATFORM);
  const run = prepareRun({ spec, data: await loadRunData(spec), backend: choice });
  const points: TimeToPoint[] = [];
  const started = performance.now();
  const done = (reached: boolean, epoch: number | null): TimeToResult => {
    const seconds = (performance.now() - started) / 1000;
    const test = run.trainer.evaluate(run.data.test, { batch: spec.evalBatch });
    return { reached, epoch, seconds, testAccuracy: test.accuracy, backend: choice.backend.name, points };
  };
  for (;;) {
    const outcome = run.session.next();
    if (outcome.status === "done") return done(false, null);
    if (outcome.status === "diverged") throw new Error(`the run diverged in epoch ${outcome.record.epoch}: ${outcome.record.error}`);
    const r = outcome.record;
    const validationAccuracy = r.validationAccuracy as number;
    points.push({ epoch: r.epoch, seconds: (performance.now() - started) / 1000, validationAccuracy, samplesPerSecond: r.samplesPerSecond, freeSteps: r.freeSteps });
    if (validationAccuracy >= options.target) return done(true, r.epoch);
  }
}

/** `--train "--t1 50 --persistent"`: hts train flags (with their dashes) as RunFlags. */
export function parseTrainFlags(text: string): RunFlags {
  const words = text.trim() === "" ? [] : text.trim().split(/\s+/);
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (!w.startsWith("--") || w === "--") throw new Error(`--train: expected hts train flags such as "--t1 50 --persistent", got ${JSON.stringify(w)} in ${JSON.stringify(text)}`);
    const eq = w.indexOf("=");
    if (eq > 0) flags[w.slice(2, eq)] = w.slice(eq + 1);
    else if (i + 1 < words.length && !(words[i + 1] as string).startsWith("--")) flags[w.slice(2)] = words[++i] as string;
    else flags[w.slice(2)] = true;
  }
  return flags;
}
