/**
 * `@hts/study`: training runs and studies of Equilibrium Propagation with heterogeneous
 * time steps, platform-neutral. A run is a plain {@link RunSpec}; {@link prepareRun} and
 * {@link runPrepared} compose and train it; executors run lists of them; a study is a grid
 * of distributions x settings x seeds with the stability metrics of SPEC section 6, tables
 * and charts. Files, child processes and data by name are in `@hts/study/node`.
 *
 * @packageDocumentation
 */

export type { AccuracyPoint, DtHistogram, SeedCurvePoint, StabilityMapCell, StabilityRow } from "./charts.js";
export { accuracySpec, binDt, drawDtHistogram, dtHistogramSpec, gradientCheckSpec, HISTOGRAM_BINS, histogramTitle, renderSvg, seedCurvesSpec, stabilityMapSpec, stabilitySpec } from "./charts.js";
export type { PreparedRun, PrepareRunOptions, RunCallbacks, RunLog, RunRecord, RunResult } from "./compose.js";
export { prepareRun, runPrepared, specFromRecord } from "./compose.js";
export type { StudyErrorCode, StudyErrorDetails } from "./errors.js";
export { StudyError } from "./errors.js";
export type { ExecutedRun, ExecutedStatus, ExecuteOptions, Executor, ExecutorEvent, InProcessExecutorOptions, RunEnvironment, RunTask, TaskHooks } from "./executor.js";
export { completedRun, createInProcessExecutor, executeTask, failedRun, shortReason } from "./executor.js";
export type { RunFlags } from "./flags.js";
export { asFlagError, flagOfField, RUN_FLAGS, runSpecFromFlags } from "./flags.js";
export type { EpochMetrics, RunStatus, StudyRunResult, SummaryRow } from "./metrics.js";
export { accuracyCurves, COLLAPSE_DROP, CSV_COLUMNS, collapsed, FAILED_MARGIN, failedToLearn, jitter, stabilityRows, summaryCsv, summaryMarkdown, summaryRows } from "./metrics.js";
export type { BackendFactory, DistributionFactory, EnergyFactory } from "./registry.js";
export { registerBackend, registerDistribution, registerEnergy, registeredNames, runBackend, runDistribution, runEnergy } from "./registry.js";
export type { SbatchOptions, Shard } from "./shard.js";
export { parseShard, sbatchScript, shareOf, shellQuote } from "./shard.js";
export type { RunDtSpec, RunInputMode, RunSpec, RunSpecInput } from "./spec.js";
export { createRunSpec, RUN_DEFAULTS, validateRunSpec } from "./spec.js";
export type { PlannedRun, PresetName, Source, StudyConfig, StudyDefinition, StudyFile, TrainOptionKinds } from "./study-definition.js";
export {
  canonicalDefinition,
  PRESET_NAMES,
  PRESETS,
  parseDists,
  parsePositiveInt,
  parseSeeds,
  parseSetFlag,
  parseStudyFile,
  parseVaryFlag,
  planStudy,
  RESERVED_TRAIN_OPTIONS,
  runFlags,
  studyConfigs,
  studyRunResult,
  TRAIN_OPTION_KINDS,
  trainArgs,
} from "./study-definition.js";
export { checkRunConfig, flagsOfRunConfig, runConfigSchema } from "./config-file.js";
export type { RunConfigFile } from "./config-file.js";
