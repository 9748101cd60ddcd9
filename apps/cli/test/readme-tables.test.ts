import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { hts } from "./helpers.js";

/**
 * Every option that `hts COMMAND --help` lists is in the README's table for the command,
 * with the help's default in the row's default cell (or "as for `train`" where hts train's
 * --help gives the same default), and the README lists no option that the command does not
 * have. (hts train has its own, stricter test in train-options.test.ts.)
 */
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

function section(command: string): string {
  const start = readme.indexOf(`## \`hts ${command}\``);
  if (start < 0) throw new Error(`README has no section "## \`hts ${command}\`"`);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The table rows: every `--name` in a row's first cell, with the row's second cell. */
function rows(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const cells = line.split(" | ");
    if (!line.startsWith("| `--") || cells.length < 3) continue;
    for (const m of (cells[0] as string).matchAll(/`--([a-z0-9-]+)/g)) out.set(m[1] as string, (cells[1] as string).trim());
  }
  return out;
}

/** Option name -> its default as --help prints it (machine-dependent counts left out). */
async function helpDefaults(command: string): Promise<{ options: string[]; defaults: Map<string, string> }> {
  const r = await hts(command, "--help");
  expect(r.code).toBe(0);
  const found = [...r.stdout.matchAll(/^ {2}--([a-z0-9-]+)(?: [A-Z.]+)?\s+(.*)$/gm)].filter((m) => m[1] !== "help");
  const defaults = new Map<string, string>();
  for (const m of found) {
    const d = /\[default: ([^\]]+)\]$/.exec(m[2] as string)?.[1];
    if (d !== undefined) defaults.set(m[1] as string, d.replace(/, \d+ here$/, ""));
  }
  return { options: found.map((m) => m[1] as string), defaults };
}

const plain = (s: string) => s.replaceAll("`", "");

describe.each([["eval"], ["sample"], ["check-gradient"], ["study"], ["worker"]])("the README's hts %s table", (command) => {
  it("lists every option of --help, with its default, and no other", async () => {
    const { options, defaults } = await helpDefaults(command);
    const train = (await helpDefaults("train")).defaults;
    const table = rows(section(command));
    expect(options.length).toBeGreaterThan(3);
    for (const name of options) {
      expect(table.has(name), `hts ${command} --${name} is not in the README's table`).toBe(true);
      const dflt = defaults.get(name);
      if (dflt === undefined) continue;
      const cell = plain(table.get(name) as string);
      if (/as for (hts )?train/.test(cell)) expect(train.get(name), `hts ${command} --${name}: "as for train", but train's default differs`).toBe(dflt);
      else expect(cell, `hts ${command} --${name}: the README's default`).toContain(plain(dflt));
    }
    const listed = new Set(options);
    for (const name of table.keys()) expect(listed.has(name), `the README lists hts ${command} --${name}, which --help does not`).toBe(true);
  });
});

