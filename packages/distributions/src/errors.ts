/** Error codes raised by `@hts/distributions`. */
export type DistributionErrorCode = "HTS_INVALID_ARGUMENT" | "HTS_SAMPLING_FAILED";

/** Structured details: which parameter, what it was, what was expected. */
export interface ErrorDetails {
  readonly parameter?: string;
  readonly value?: unknown;
  readonly expected?: string;
}

/** The one error class of `@hts/distributions`; `code` is stable, the message is for people. */
export class DistributionError extends Error {
  override readonly name = "DistributionError";
  readonly code: DistributionErrorCode;
  readonly parameter: string | undefined;
  readonly value: unknown;
  readonly expected: string | undefined;
  constructor(code: DistributionErrorCode, message: string, details: ErrorDetails = {}) {
    super(message);
    this.code = code;
    this.parameter = details.parameter;
    this.value = details.value;
    this.expected = details.expected;
  }
}
