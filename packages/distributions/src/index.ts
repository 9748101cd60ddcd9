export { DistributionError } from "./errors.js";
export type { DistributionErrorCode, ErrorDetails } from "./errors.js";
export { createRng, restoreRng } from "./rng.js";
export type { Rng, RngState } from "./rng.js";
