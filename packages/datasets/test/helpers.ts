import { expect } from "vitest";
import { DatasetError } from "../src/index.js";

/** Awaits `run`, expects a {@link DatasetError} with `code`, and a message holding every fragment. */
export async function expectRejects(
  run: () => Promise<unknown>,
  code: string,
  ...fragments: (string | RegExp)[]
): Promise<DatasetError> {
  let caught: unknown;
  try {
    await run();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(DatasetError);
  const err = caught as DatasetError;
  expect(err.code).toBe(code);
  for (const f of fragments) expect(err.message).toMatch(f);
  return err;
}
