export { runCli } from "./cli.js";
export type { Io } from "./io.js";
// The command-line building blocks, for the tools beside the CLI (the benchmark).
export { choice, formatHelp, int, num, numList, parseCommand, str } from "./args.js";
export type { OptionSpec, OptionTable, ParsedArgs } from "./args.js";
export { UsageError } from "./usage-error.js";
