/** Error codes raised by `@hts/study`. */
export type StudyErrorCode = "HTS_INVALID_ARGUMENT" | "HTS_STUDY_STATE";

/** What was wrong: the parameter (a RunSpec field such as `lr` or `dt.max`, or a flag), its value and what is allowed. */
export interface StudyErrorDetails {
  readonly parameter: string;
  readonly value: unknown;
  readonly expected: string;
}

/** The one error class of `@hts/study`; `code` is stable, `parameter` names the field. */
export class StudyError extends Error {
  override readonly name = "StudyError";
  readonly code: StudyErrorCode;
  readonly parameter: string;
  readonly value: unknown;
  readonly expected: string;
  constructor(code: StudyErrorCode, message: string, details: StudyErrorDetails) {
    super(message);
    this.code = code;
    this.parameter = details.parameter;
    this.value = details.value;
    this.expected = details.expected;
  }
}

/** @internal A JSON rendering of a value for messages. */
export function show(v: unknown): string {
  if (v === undefined) return "undefined";
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** @internal Throws HTS_INVALID_ARGUMENT: `<parameter>: expected <expected>, got <value>`. */
export function invalidField(parameter: string, value: unknown, expected: string): never {
  throw new StudyError("HTS_INVALID_ARGUMENT", `${parameter}: expected ${expected}, got ${show(value)}`, { parameter, value, expected });
}

/** @internal Throws HTS_INVALID_ARGUMENT with a message of its own (it starts with `<parameter>: `). */
export function refuse(parameter: string, value: unknown, expected: string, message: string): never {
  throw new StudyError("HTS_INVALID_ARGUMENT", `${parameter}: ${message}`, { parameter, value, expected });
}
