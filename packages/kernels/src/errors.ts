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

/**
 * Refuses a `gemm` whose `out` is one of its factors: a product reads whole rows or columns
 * of `a` and `b` while it writes `out`, so no backend computes it in place. Cheap (two
 * identity comparisons), so it stays in the hot path.
 */
export function refuseGemmAlias(backend: string, a: object, b: object, out: object): void {
  if (out !== a && out !== b) return;
  const which = out === a && out === b ? "a and b" : out === a ? "a" : "b";
  throw new KernelError(
    "HTS_INVALID_ARGUMENT",
    `${backend}.gemm: out must be a matrix other than a and b, got the same matrix as ${which}; give the product a separate out`,
    { parameter: "out", value: which, expected: "a matrix other than a and b" },
  );
}
