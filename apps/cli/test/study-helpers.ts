import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The built CLI that `hts study` spawns its runs with (the tests need `tsc -p tsconfig.build.json` first). */
export const MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "main.js");

export function requireBuild(): void {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build @hts/cli first (npx tsc -p tsconfig.build.json)`);
}

