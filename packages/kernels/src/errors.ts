/** Error codes raised by `@hts/kernels`. */
export type KernelErrorCode = "HTS_INVALID_ARGUMENT" | "HTS_SHAPE_MISMATCH" | "HTS_BACKEND_UNAVAILABLE";

/** Structured details of a {@link KernelError}. */
export interface KernelErrorDetails {
  readonly parameter?: string;
  readonly value?: unknown;
  readonly expected?: string;
}

/** The one error class of `@hts/kernels`; `code` is stable, the message names what was wrong. */
export class KernelError extends Error {
  override readonly name = "KernelError";
  readonly code: KernelErrorCode;
  readonly parameter: string | undefined;
  readonly value: unknown;
  readonly expected: string | undefined;
  constructor(code: KernelErrorCode, message: string, details: KernelErrorDetails = {}) {
    super(message);
    this.code = code;
    this.parameter = details.parameter;
    this.value = details.value;
    this.expected = details.expected;
  }
}
