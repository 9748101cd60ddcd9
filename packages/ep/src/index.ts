export { checkpointTensors, decodeCheckpoint, encodeCheckpoint, snapshotFromTensors } from "./checkpoint.js";
export type { Checkpoint } from "./checkpoint.js";
export { EpError, invalid } from "./errors.js";
export type { EpErrorCode, NonFiniteLocation } from "./errors.js";
export {
  bpttGradient,
  CHECK_NUDGES,
  checkGradient,
  compareGradients,
  createGradientCheckProblem,
  DEFAULT_CHECK_BETAS,
  epEstimate,
  finiteDifferenceGradient,
  gduCurves,
  gradientTensors,
} from "./gradient-check.js";
export { formatGradientReport } from "./gradient-report.js";
export type {
  BpttOptions,
  BpttResult,
  CheckNudge,
  CheckSetup,
  ConvergenceOptions,
  EpEstimateOptions,
  EpEstimateResult,
  EpRow,
  FiniteDifferenceOptions,
  FiniteDifferenceResult,
  GduOptions,
  GduResult,
  GduTensor,
  GradientArrays,
  GradientCheckOptions,
  GradientCheckProblem,
  GradientCheckProblemOptions,
  GradientCheckReport,
  GradientCheckTargets,
  NamedTensor,
  TensorAgreement,
} from "./gradient-check.js";
export { createNetwork, networkFromSnapshot, snapshotNetwork } from "./network.js";
export type { CreateNetworkOptions, DtSpec, Network, NetworkSnapshot } from "./network.js";
export { createOptimizer, OPTIMIZERS } from "./optimizer.js";
export type { Optimizer, OptimizerConfig, OptimizerName, OptimizerState } from "./optimizer.js";
export { DYNAMICS, ORDERS, Relaxer } from "./relaxation.js";
export type { Dynamics, Order, RelaxerOptions, RelaxOptions, RelaxResult } from "./relaxation.js";
export {
  CheckpointError,
  decodeSafetensors,
  encodeSafetensors,
} from "./safetensors.js";
export type {
  CheckpointErrorCode,
  CheckpointErrorDetails,
  SafetensorsArrays,
  SafetensorsContent,
  SafetensorsDtype,
  SafetensorsInput,
  SafetensorsTensor,
} from "./safetensors.js";
export { checkCombination } from "./combination.js";
export { createEvaluator, evaluate } from "./evaluate.js";
export type { CreateEvaluatorOptions, EvalStats, Evaluator, InferenceConfig, LabeledData, RelaxationStep } from "./evaluate.js";
export { createTrainer, NUDGES } from "./trainer.js";
export type { BatchResult, CreateTrainerOptions, EpochStats, Estimate, Nudge, Trainer, TrainerConfig } from "./trainer.js";
export { createSession, markBest, shuffledOrder } from "./session.js";
export type { DivergedRecord, EpochOutcome, EpochRecord, Session, SessionData, SessionOptions, SessionState } from "./session.js";
export { decodeTrainState, encodeTrainState, TRAIN_STATE_FORMAT } from "./session-state.js";
export type { TrainState } from "./session-state.js";
