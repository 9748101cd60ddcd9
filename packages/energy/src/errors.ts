/** Error codes raised by `@hts/energy`. */
export type EnergyErrorCode = "HTS_INVALID_ARGUMENT" | "HTS_SHAPE_MISMATCH";

/** The one error class of `@hts/energy`; `code` is stable, the message names what was wrong. */
export class EnergyError extends Error {
  override readonly name = "EnergyError";
  readonly code: EnergyErrorCode;
  readonly parameter: string | undefined;
  readonly value: unknown;
  readonly expected: string | undefined;
  constructor(
    code: EnergyErrorCode,
    message: string,
    details: { parameter?: string; value?: unknown; expected?: string } = {},
  ) {
    super(message);
    this.code = code;
    this.parameter = details.parameter;
    this.value = details.value;
    this.expected = details.expected;
  }
}
