export type { CauchyParams } from "./cauchy.js";
export { cauchy } from "./cauchy.js";
export type { ClampOptions } from "./clamp.js";
export { clamp, DEFAULT_CLAMP, RESAMPLE_MAX_TRIES } from "./clamp.js";
export type { ConstantParams } from "./constant.js";
export { constant } from "./constant.js";
export type { CreateDistributionOptions } from "./create-distribution.js";
export { createDistribution } from "./create-distribution.js";
export type {
  ClampMode,
  ClampSpec,
  Distribution,
  DistributionJSON,
  DistributionParams,
  JsonValue,
} from "./distribution.js";
export { distributionFromJSON } from "./distribution-from-json.js";
export { DistributionError } from "./errors.js";
export type { DistributionErrorCode, ErrorDetails } from "./errors.js";
export type { ExponentialParams } from "./exponential.js";
export { exponential } from "./exponential.js";
export type { GammaParams } from "./gamma.js";
export { gamma } from "./gamma.js";
export type { LaplaceParams } from "./laplace.js";
export { laplace } from "./laplace.js";
export { logGamma } from "./log-gamma.js";
export type { LognormalParams } from "./lognormal.js";
export { lognormal } from "./lognormal.js";
export type { MomentOptions } from "./moment-options.js";
export { CV_RANGE } from "./moment-options.js";
export type { DistributionName } from "./names.js";
export { DISTRIBUTION_NAMES, isDistributionName } from "./names.js";
export type { NormalParams } from "./normal.js";
export { normal } from "./normal.js";
export type { ParetoParams } from "./pareto.js";
export { pareto } from "./pareto.js";
export { createRng, restoreRng } from "./rng.js";
export type { Rng, RngState } from "./rng.js";
export { sampleLayers } from "./sample-layers.js";
export { createStandardGamma, openUniform, standardNormal } from "./standard-variates.js";
export type { StudentTOptions, StudentTParams } from "./student-t.js";
export { DEFAULT_STUDENT_T_NU, studentT } from "./student-t.js";
export type { DtSummary, SummarizeOptions } from "./summarize.js";
export { summarize } from "./summarize.js";
export { clampWarning } from "./clamp-warning.js";
export type { ClampWarningOptions } from "./clamp-warning.js";
export type { UniformParams } from "./uniform.js";
export { uniform } from "./uniform.js";
export type { WeibullParams } from "./weibull.js";
export { weibull } from "./weibull.js";
export { weibullShapeForCv } from "./weibull-shape.js";
