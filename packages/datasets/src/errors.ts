/** Error codes raised by `@hts/datasets`. */
export type DatasetErrorCode = "HTS_DATA_FORMAT" | "HTS_DATA_NOT_FOUND" | "HTS_INVALID_ARGUMENT";

/** Structured details of a {@link DatasetError}: the file, parameter, value and expectation. */
export interface DatasetErrorDetails {
  /** The file or folder concerned, as given or resolved. */
  readonly file?: string;
  /** The parameter or header field concerned. */
  readonly parameter?: string;
  /** What was found. */
  readonly value?: unknown;
  /** What was expected, in words. */
  readonly expected?: string;
}

/**
 * The one error class of `@hts/datasets`. `code` is stable and meant for programs; the
 * message is for people and names the function, the file and the problem.
 *
 * - `HTS_DATA_FORMAT`: a file exists but its content is not what the format requires.
 * - `HTS_DATA_NOT_FOUND`: a file, folder or package holding the data cannot be found.
 * - `HTS_INVALID_ARGUMENT`: an argument has the wrong type or range.
 */
export class DatasetError extends Error {
  override readonly name = "DatasetError";
  /** Stable machine-readable code. */
  readonly code: DatasetErrorCode;
  /** The file or folder concerned, if any. */
  readonly file: string | undefined;
  /** The parameter or header field concerned, if any. */
  readonly parameter: string | undefined;
  /** What was found, if relevant. */
  readonly value: unknown;
  /** What was expected, if relevant. */
  readonly expected: string | undefined;
  constructor(code: DatasetErrorCode, message: string, details: DatasetErrorDetails = {}) {
    super(message);
    this.code = code;
    this.file = details.file;
    this.parameter = details.parameter;
    this.value = details.value;
    this.expected = details.expected;
  }
}
