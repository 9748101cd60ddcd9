export { runCli } from "./cli.js";
export type { Io } from "./io.js";
