/** A bad command line: reported as one line, exit code 2, no stack trace. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly option: string;
  constructor(option: string, message: string) {
    super(message);
    this.option = option;
  }
}
