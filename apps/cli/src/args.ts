import { parseArgs } from "node:util";
import { UsageError } from "./usage-error.js";

/** One option of a command: its type, default and help text. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly help: string;
  /** Shown in the help as the placeholder of the value. */
  readonly value?: string;
  readonly default?: string;
}

/** A command's options by long name (without the leading dashes). */
export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** Parsed values: strings or booleans by long name. */
export type ParsedArgs = Readonly<Record<string, string | boolean | undefined>>;

/**
 * Parses `argv` strictly against `table`: unknown options, missing values and stray
 * positionals are UsageErrors naming the option.
 */
export function parseCommand(command: string, argv: readonly string[], table: OptionTable): ParsedArgs {
  const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const [name, spec] of Object.entries(table)) options[name] = { type: spec.type };
  // "--beta -1" is a negative number, not an option: join it as "--beta=-1" so that the
  // range check can name the value.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const next = argv[i + 1];
    const name = a.startsWith("--") ? a.slice(2) : "";
    if (table[name]?.type === "string" && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      args.push(`${a}=${next}`);
      i++;
    } else args.push(a);
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const m = /'(-{1,2}[^' ]+)/.exec(msg);
    const opt = m?.[1] ?? "?";
    if (/Unknown option/i.test(msg)) {
      throw new UsageError(opt, `hts ${command}: unknown option ${opt} (see hts ${command} --help)`);
    }
    if (/argument missing/i.test(msg)) {
      throw new UsageError(opt, `hts ${command}: ${opt} needs a value (see hts ${command} --help)`);
    }
    if (/positional/i.test(msg)) {
      const p = /'([^']+)'/.exec(msg)?.[1] ?? "";
      throw new UsageError(p, `hts ${command}: unexpected argument ${JSON.stringify(p)}: options are written --name value (see hts ${command} --help)`);
    }
    if (/does not take an argument/i.test(msg)) {
      throw new UsageError(opt, `hts ${command}: ${opt} is a switch and takes no value`);
    }
    throw new UsageError(opt, `hts ${command}: ${msg.split("\n")[0]}`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const out: Record<string, string | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(table)) {
    const v = values[name];
    out[name] = v === undefined ? (spec.type === "boolean" ? false : spec.default) : v;
  }
  out.help = values.help ?? false;
  return out;
}

/** Help sections in reading order: a heading and the option names under it. */
export type HelpGroups = readonly (readonly [string, readonly string[]])[];

/**
 * Formats a command's help: a description, then one line (or more) per option, under the
 * headings of `groups` when given (every option must be in exactly one group).
 */
export function formatHelp(command: string, summary: string, table: OptionTable, footer = "", groups?: HelpGroups): string {
  const lines = [`Usage: hts ${command} [options]`, "", summary, ""];
  const left = (name: string, spec: OptionSpec) => `  --${name}${spec.type === "string" ? ` ${spec.value ?? "VALUE"}` : ""}`;
  const width = Math.max(...Object.entries(table).map(([n, s]) => left(n, s).length), 10) + 2;
  const sections: HelpGroups = groups ?? [["Options", Object.keys(table)]];
  const listed = sections.flatMap(([, names]) => names);
  const missing = Object.keys(table).filter((n) => !listed.includes(n));
  const unknown = listed.filter((n) => !(n in table));
  if (missing.length || unknown.length || new Set(listed).size !== listed.length) {
    throw new Error(`formatHelp(${command}): help groups must list every option once (missing ${missing.join(", ")}; unknown ${unknown.join(", ")})`);
  }
  sections.forEach(([heading, names], i) => {
    if (i > 0) lines.push("");
    lines.push(`${heading}:`);
    for (const name of names) {
      const spec = table[name] as OptionSpec;
      const dflt = spec.default !== undefined ? ` [default: ${spec.default}]` : "";
      lines.push(left(name, spec).padEnd(width) + `${spec.help}${dflt}`);
    }
  });
  lines.push("", `  --help`.padEnd(width) + "Show this help.");
  if (footer) lines.push("", footer);
  return `${lines.join("\n")}\n`;
}

/** Reads a string option (after defaults). */
export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args[name];
  return typeof v === "string" ? v : undefined;
}

/** A required string option from a fixed set of choices. */
export function choice<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[]): T {
  const v = str(args, name);
  if (v === undefined || !allowed.includes(v as T)) {
    throw new UsageError(name, `--${name}: expected one of ${allowed.join(", ")}, got ${JSON.stringify(v ?? "")}`);
  }
  return v as T;
}

/** An integer option within [min, max]. */
export function int(args: ParsedArgs, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = str(args, name);
  if (v === undefined) return undefined;
  const n = /^[+]?\d+$/.test(v.trim()) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
    throw new UsageError(name, `--${name}: expected ${range}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** A finite number option with bounds (`open` excludes min). */
export function num(args: ParsedArgs, name: string, min: number, open = false, max = Number.POSITIVE_INFINITY): number | undefined {
  const v = str(args, name);
  if (v === undefined) return undefined;
  const n = v.trim() === "" ? Number.NaN : Number(v);
  if (!Number.isFinite(n) || (open ? n <= min : n < min) || n > max) {
    const lo = open ? `> ${min}` : `>= ${min}`;
    const hi = max === Number.POSITIVE_INFINITY ? "" : ` and <= ${max}`;
    throw new UsageError(name, `--${name}: expected a finite number ${lo}${hi}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** A comma-separated list of numbers. */
export function numList(args: ParsedArgs, name: string, check: (n: number) => boolean, what: string): number[] | undefined {
  const v = str(args, name);
  if (v === undefined) return undefined;
  const parts = v.split(",").map((p) => p.trim());
  const nums = parts.map((p) => (p === "" ? Number.NaN : Number(p)));
  if (nums.length === 0 || nums.some((n) => !Number.isFinite(n) || !check(n))) {
    throw new UsageError(name, `--${name}: expected a comma-separated list of ${what}, got ${JSON.stringify(v)}`);
  }
  return nums;
}
