export {
  activationRange,
  driveStep,
  driveStepReference,
  gradientStep,
  gradientStepReference,
  gradientTail,
  gradientTailReference,
  heldMaxAbs,
  leakyStep,
  leakyStepReference,
  squaredErrorGradient,
  squaredErrorGradientReference,
} from "./backend.js";
export type {
  ActivationKind,
  AdamStepOptions,
  Backend,
  DriveGradientStep,
  EulerStepOptions,
  FloatArray,
  GemmOptions,
  GradientStepOptions,
  GradientStepWithOptions,
  Matrix,
  Precision,
  SgdStepOptions,
  SquaredErrorScratch,
} from "./backend.js";
export { createCpuBackend, createReferenceBackend } from "./cpu-backend.js";
export { heldMaxAbsOf } from "./host-arrays.js";
export type { HostMatrix } from "./cpu-backend.js";
export { AUTO_ORDER, BACKEND_PREFERENCES, createBackend } from "./create-backend.js";
export type { BackendCandidate, BackendChoice, BackendPlatform, BackendPreference } from "./create-backend.js";
export { KernelError } from "./errors.js";
export { createGpuBackend, GPU_JS_VERSION } from "./gpu-backend.js";
export type { GpuBackend, GpuBackendOptions, GpuJsClass, GpuJsInstance, GpuLoader, GpuMode } from "./gpu-backend.js";
export { createWasmBackend, wasmUnavailableReason } from "./wasm-backend.js";
export type { WasmBackendOptions } from "./wasm-backend.js";
export type { WasmThreadPool, WasmWorkerData } from "./wasm-threads.js";
export type { WasmMemory } from "./wasm-module.js";
export type { KernelErrorCode, KernelErrorDetails } from "./errors.js";
export { fromNdarray, toNdarray } from "./ndarray-view.js";
export { adamBiasCorrections, adamStepArrays, sgdStepArrays } from "./optimizers.js";
export { browserThreadsUnavailableReason, browserWasmThreadPool } from "./browser-threads.js";
