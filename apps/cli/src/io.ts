import { readdirSync, readFileSync } from "node:fs";
import { UsageError } from "./usage-error.js";

/** Atomic writes (temporary file in the same folder, fsync, rename): the one of `@hts/study/node`. */
export { writeFileAtomic } from "@hts/study/node";

/** True when `dir` exists and holds anything. */
export function isNonEmptyDir(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0;
  } catch {
    return false;
  }
}

/** Where human output goes: stderr when `--json` owns stdout. */
export interface Io {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  readonly isTTY: boolean;
}

/**
 * The JSON value in `file`, given on the command line as `--option`; a file that cannot be
 * read or is not JSON is a UsageError naming the option, the file and the reason.
 */
export function readJsonOption(option: string, file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(option, `--${option}: cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(option, `--${option}: ${file} is not valid JSON: ${(e as Error).message}`);
  }
}
