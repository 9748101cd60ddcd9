import { asFlagError, StudyError } from "@hts/study";

/** A bad command line: reported as one line, exit code 2, no stack trace. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly option: string;
  constructor(option: string, message: string) {
    super(message);
    this.option = option;
  }
}

/** A StudyError about a run setting as a bad command line naming the flag (`flags` maps a parameter to its flag where the field name is not enough). */
export function asUsage(e: unknown, flags: Readonly<Record<string, string>> = {}): unknown {
  const f = asFlagError(e);
  if (!(f instanceof StudyError) || f.code !== "HTS_INVALID_ARGUMENT") return f;
  const flag = flags[f.parameter];
  if (flag === undefined) return new UsageError(f.parameter, f.message);
  return new UsageError(flag, `--${flag}: ${f.message.replace(new RegExp(`^${f.parameter}: `), "")}`);
}
