/**
 * What the page and its training worker say to each other (through Comlink): the options of
 * a run, and the events the worker sends back while it trains (throttled).
 */
import type { IdxFileBytes } from "@hts/datasets";
import type { DivergedRecord, EpochRecord } from "@hts/ep";
import type { RunSpec } from "@hts/study";

/** Where the digits come from: the embedded ones (served under `base`), or a user's four IDX files. */
export type DataChoice = { readonly kind: "embedded"; readonly base: string } | { readonly kind: "idx"; readonly name: string; readonly files: IdxFileBytes };

/** The backends the page offers: `createBackend`'s preferences. */
export const PAGE_BACKENDS = ["auto", "wasm", "gpu", "cpu"] as const;
export type PageBackend = (typeof PAGE_BACKENDS)[number];

/** Control slots of the shared Int32Array (cross-origin isolated pages only). */
export const CTRL_PAUSED = 0;
/** Minibatches still allowed while paused ("one minibatch" adds one). */
export const CTRL_STEPS = 1;
/** Set to end the run at the next minibatch. */
export const CTRL_STOP = 2;
export const CTRL_SLOTS = 4;

export interface StartOptions {
  /** The complete run description (validated by `@hts/study`). */
  readonly spec: RunSpec;
  readonly backend: PageBackend;
  /** Threads of wasm-f32 (1: none; more only when the page is cross-origin isolated). */
  readonly threads: number;
  /** Also train the scalar-dt twin (dt constant at the mean) from the same seed, epoch by epoch. */
  readonly twin: boolean;
  readonly data: DataChoice;
  /** The shared control block (CTRL_*), or null: then pause and stop act between epochs. */
  readonly control: SharedArrayBuffer | null;
  /** Start paused (the "one minibatch" button on a fresh page). */
  readonly paused: boolean;
}

/** One relaxation step of the probe minibatch. */
export interface TraceStep {
  readonly phase: string;
  readonly step: number;
  readonly energy: number;
  readonly cost: number;
  readonly residual: number;
}

export type TrainEvent =
  | {
      readonly type: "ready";
      readonly backend: string;
      readonly reason: string;
      readonly threads: number;
      readonly source: string;
      readonly trainExamples: number;
      readonly validationExamples: number;
      readonly testExamples: number;
      readonly warnings: readonly string[];
      readonly log: string;
    }
  | { readonly type: "batch"; readonly run: "main" | "twin"; readonly epoch: number; readonly done: number; readonly total: number; readonly samplesPerSecond: number }
  | { readonly type: "epoch"; readonly run: "main" | "twin"; readonly record: EpochRecord | DivergedRecord }
  | { readonly type: "trace"; readonly epoch: number; readonly done: number; readonly steps: readonly TraceStep[] }
  | { readonly type: "fields"; readonly n0: number; readonly n1: number; readonly W1: Float32Array; readonly dt1: Float32Array }
  | { readonly type: "model"; readonly epoch: number; readonly bytes: Uint8Array }
  | { readonly type: "paused"; readonly paused: boolean; readonly epoch: number; readonly done: number };

/** The end of a run. */
export interface RunOutcome {
  readonly status: "ok" | "diverged" | "stopped" | "error";
  readonly message: string | null;
  /** The field of the run description an error names (`lr`, `dt.sd`...), if any. */
  readonly parameter: string | null;
  readonly finalTestAccuracy: number | null;
  readonly epochs: number;
}

/** A model imported into the page, evaluated on the test split of the current data. */
export interface ImportedModel {
  readonly sizes: readonly number[];
  readonly testAccuracy: number;
  readonly examples: number;
  readonly source: string;
  readonly config: Record<string, unknown>;
}
