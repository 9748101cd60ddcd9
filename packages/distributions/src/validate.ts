import { DistributionError } from "./errors.js";

/** Formats a value for an error message: numbers and strings as written, the rest as JSON. */
export function describe(value: unknown): string {
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "undefined";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Builds the `HTS_INVALID_ARGUMENT` error with the house message shape:
 * `fn: parameter must be expected, got value`.
 */
export function invalidArgument(
  fn: string,
  parameter: string,
  value: unknown,
  expected: string,
): DistributionError {
  return new DistributionError(
    "HTS_INVALID_ARGUMENT",
    `${fn}: ${parameter} must be ${expected}, got ${describe(value)}`,
    { parameter, value, expected },
  );
}

/** Checks that `options` is a plain object; returns it typed as a record. */
export function requireObject(fn: string, parameter: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalidArgument(fn, parameter, value, "an object");
  }
  return value as Record<string, unknown>;
}

/** Checks a finite number; returns it. */
export function requireFinite(fn: string, parameter: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw invalidArgument(fn, parameter, value, "a finite number");
  }
  return value;
}

/** Checks a finite number > 0; returns it. */
export function requirePositive(fn: string, parameter: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw invalidArgument(fn, parameter, value, "a finite number > 0");
  }
  return value;
}
