import { readFileSync } from "node:fs";
import { format } from "node:util";
import { expect } from "vitest";

/**
 * Helpers for the README tests (test/readme.test.ts here and in packages/ep; the header of
 * each says how it works): finding a README's fenced blocks by heading (`readmeBlocks`,
 * `readmeBlock`, `section`), the copies between `// readme:NAME:begin` and `// readme:NAME:end`
 * markers (`region`, `regionNames`, `expectCopiesMatch`), capturing what the blocks print
 * (`captureConsole`), and reading what a block's comments say it prints (`comment`,
 * `commentLines`, `claimPattern`, `oneLine`).
 */

/** A fenced code block of a Markdown document and where it sits. */
export interface ReadmeBlock {
  /** The info string's first word (`ts`, `sh`, ...; "" for a bare fence). */
  readonly lang: string;
  /** The text of the nearest heading above it, without the `#`s ("" before any heading). */
  readonly heading: string;
  /** Its position among the blocks of the same language directly under that heading (0-based). */
  readonly index: number;
  /** The 1-based line of its opening fence. */
  readonly line: number;
  /** The code, without the fences, trimmed. */
  readonly code: string;
}

/** Every fenced block of `markdown`, in order. Headings inside code blocks are not headings. */
export function readmeBlocks(markdown: string): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  const seen = new Map<string, number>();
  let heading = "";
  let open: { fence: string; lang: string; line: number; lines: string[] } | null = null;
  markdown.split("\n").forEach((text, i) => {
    if (open !== null) {
      if (text.trim() === open.fence) {
        const key = `${open.lang}\u0000${heading}`;
        const index = seen.get(key) ?? 0;
        seen.set(key, index + 1);
        blocks.push({ lang: open.lang, heading, index, line: open.line, code: open.lines.join("\n").trim() });
        open = null;
      } else open.lines.push(text);
      return;
    }
    const fence = /^(`{3,}|~{3,})\s*([^\s`]*)/.exec(text);
    if (fence) {
      open = { fence: fence[1] as string, lang: fence[2] ?? "", line: i + 1, lines: [] };
      return;
    }
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (h) heading = h[1] as string;
  });
  if (open !== null) throw new Error(`README: the code block opened on line ${(open as { line: number }).line} is not closed`);
  return blocks;
}

/** Where a copied block is in the README: its heading, its language and its position under it. */
export interface BlockPlace {
  readonly heading: string;
  readonly lang?: string;
  readonly index?: number;
}

/** The code of the block at `place`; throws, listing the headings with blocks, when there is none. */
export function readmeBlock(markdown: string, place: BlockPlace): string {
  const lang = place.lang ?? "ts";
  const index = place.index ?? 0;
  const all = readmeBlocks(markdown);
  const found = all.find((b) => b.heading === place.heading && b.lang === lang && b.index === index);
  if (!found) {
    const there = [...new Set(all.filter((b) => b.lang === lang).map((b) => JSON.stringify(b.heading)))].join(", ");
    throw new Error(`README: no ${lang} block #${index} under the heading ${JSON.stringify(place.heading)}; ${lang} blocks are under ${there}`);
  }
  return found.code;
}

/**
 * The first README test: each region `NAME` of the test file `self` equals the README block at
 * `blocks[NAME]` (with the imports in `imports` replaced), the file has no other region, and
 * every ts block of the README is in `blocks` or in `notRun`. Soft: every mismatch is reported.
 */
export function expectCopiesMatch(
  readme: string,
  self: string,
  blocks: Record<string, BlockPlace>,
  notRun: readonly BlockPlace[],
  imports: Record<string, string>,
): void {
  expect.soft(regionNames(self), "the regions of the test file against BLOCKS").toEqual(Object.keys(blocks));
  for (const [name, place] of Object.entries(blocks)) {
    let want: string;
    try {
      want = pointImports(readmeBlock(readme, place), imports);
    } catch (error) {
      want = String(error);
    }
    expect.soft(region(self, name), `region ${name}: the README block under ${JSON.stringify(place.heading)} #${place.index ?? 0}`).toBe(want);
  }
  const key = (p: BlockPlace) => `${p.lang ?? "ts"} under ${JSON.stringify(p.heading)} #${p.index ?? 0}`;
  const inReadme = readmeBlocks(readme)
    .filter((b) => b.lang === "ts")
    .map(key)
    .sort();
  expect.soft(inReadme, "the README's ts blocks against BLOCKS and NOT_RUN").toEqual([...Object.values(blocks), ...notRun].map(key).sort());
}

/** The lines between `// readme:NAME:begin` and `// readme:NAME:end` of `source`, trimmed. */
export function region(source: string, name: string): string {
  const begin = `// readme:${name}:begin\n`;
  const from = source.indexOf(begin);
  const to = source.indexOf(`// readme:${name}:end`);
  if (from < 0 || to < from) throw new Error(`no region readme:${name} (begin and end markers) in the test file`);
  return source.slice(from + begin.length, to).trim();
}

/** The names of the `// readme:NAME:begin` regions of `source`, in order. */
export function regionNames(source: string): string[] {
  return [...source.matchAll(/^\/\/ readme:([\w-]+):begin$/gm)].map((m) => m[1] as string);
}

/** `code` with each import specifier in `from` (e.g. "@hts/ep") replaced, quotes included. */
export function pointImports(code: string, from: Record<string, string>): string {
  let out = code;
  for (const [name, to] of Object.entries(from)) out = out.replaceAll(`from "${name}"`, `from "${to}"`);
  return out;
}

/** Reads a file next to the test (`new URL("../README.md", import.meta.url)`). */
export function readText(url: URL): string {
  return readFileSync(url, "utf8");
}

/** What console.log and console.error printed while captured, one string per call (as Node formats them). */
export interface Captured {
  readonly log: string[];
  readonly error: string[];
  /** Puts the console back; returns this. */
  stop(): Captured;
}

/**
 * Records console.log and console.error (each call formatted as Node prints it) instead of
 * printing them, from now until `stop()`. Started before the copied blocks run (the blocks run
 * when the test file is loaded), stopped after the last one.
 */
export function captureConsole(): Captured {
  const log = console.log;
  const error = console.error;
  const captured: Captured = {
    log: [],
    error: [],
    stop() {
      console.log = log;
      console.error = error;
      return captured;
    },
  };
  console.log = (...args: unknown[]) => {
    captured.log.push(format(...args));
  };
  console.error = (...args: unknown[]) => {
    captured.error.push(format(...args));
  };
  return captured;
}

/**
 * The README's claim about what a line prints: the text of the `// ` comment at the end of
 * the first line of `code` that contains `anchor` ("console.log(x); // [ 0, 1 ]" gives
 * "[ 0, 1 ]").
 */
export function comment(code: string, anchor: string): string {
  const line = code.split("\n").find((l) => l.includes(anchor));
  const at = line?.lastIndexOf("// ") ?? -1;
  if (line === undefined || at < 0) throw new Error(`README block: no line with ${JSON.stringify(anchor)} and a // comment`);
  return line.slice(at + 3).trim();
}

/**
 * The README's claim about what a loop or a multi-line statement prints: the run of
 * comment-only lines that comes first after the first line containing `anchor`, without
 * their `// `.
 */
export function commentLines(code: string, anchor: string): string[] {
  const lines = code.split("\n");
  let i = lines.findIndex((l) => l.includes(anchor));
  if (i < 0) throw new Error(`README block: no line with ${JSON.stringify(anchor)}`);
  while (i < lines.length && !/^\s*\/\/ /.test(lines[i] as string)) i++;
  const out: string[] = [];
  for (; i < lines.length && /^\s*\/\/ /.test(lines[i] as string); i++) out.push((lines[i] as string).replace(/^\s*\/\/ /, "").trim());
  if (out.length === 0) throw new Error(`README block: no comment lines after ${JSON.stringify(anchor)}`);
  return out;
}

/** The text under the heading `heading` (any level) up to the next heading, code blocks included. */
export function section(markdown: string, heading: string): string {
  const lines = markdown.split("\n");
  let fence: string | null = null;
  let inside = false;
  const out: string[] = [];
  for (const line of lines) {
    const f = /^(`{3,}|~{3,})/.exec(line);
    const h = fence === null ? /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line) : null;
    if (h) {
      if (inside) break;
      inside = h[1] === heading;
      continue;
    }
    if (f) fence = fence === null ? (f[1] as string) : line.trim() === fence ? null : fence;
    if (inside) out.push(line);
  }
  if (!inside) throw new Error(`README: no heading ${JSON.stringify(heading)}`);
  return out.join("\n").trim();
}

/** `text` on one line: every run of white space as one space (Node breaks long objects over lines). */
export function oneLine(text: string | undefined): string {
  return (text ?? "").replace(/\s+/g, " ").trim();
}

/**
 * A README's claimed output line as a pattern: `...` stands for any text, everything else is
 * literal (`{ examples: 4, accuracy: 1, cost: ..., freeSteps: 30 }`).
 */
export function claimPattern(claim: string): RegExp {
  const parts = claim.split("...").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join(".*?")}$`);
}
