/**
 * Just enough of vitest's API (describe, it, expect and the matchers that
 * test/conformance.test.ts uses) to run that file unchanged in a browser page. Tests are
 * collected while the file is imported and run by {@link runAll}.
 */

interface Registered {
  readonly name: string;
  readonly fn: (() => unknown) | null;
}

const registered: Registered[] = [];
const path: string[] = [];

/** vitest's `$key` and `%s` title formatting for `.each`. */
function title(template: string, value: unknown): string {
  let t = template.replace(/\$([A-Za-z_]\w*)/g, (_, k: string) => {
    const v = (value as Record<string, unknown>)?.[k];
    return typeof v === "string" ? v : JSON.stringify(v);
  });
  t = t.replace(/%[sdij]/, () => (typeof value === "string" ? value : JSON.stringify(value)));
  return t;
}

function spread(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

type Body = (...args: never[]) => unknown;

function makeIt(skip: boolean) {
  const it = (name: string, fn: () => unknown) => {
    registered.push({ name: [...path, name].join(" > "), fn: skip ? null : fn });
  };
  it.each =
    <T>(cases: readonly T[]) =>
    (template: string, fn: (...args: never[]) => unknown) => {
      for (const c of cases) it(title(template, c), () => (fn as Body)(...(spread(c) as never[])));
    };
  return it;
}

function makeDescribe(skip: boolean) {
  const describe = (name: string, fn: () => void) => {
    path.push(name);
    const before = registered.length;
    try {
      fn();
    } finally {
      path.pop();
    }
    if (skip) for (let i = before; i < registered.length; i++) registered[i] = { ...(registered[i] as Registered), fn: null };
  };
  describe.each =
    <T>(cases: readonly T[]) =>
    (template: string, fn: (...args: never[]) => void) => {
      for (const c of cases) describe(title(template, c), () => (fn as Body)(...(spread(c) as never[])));
    };
  return describe;
}

export const it = Object.assign(makeIt(false), { skip: makeIt(true) });
export const test = it;
export const describe = Object.assign(makeDescribe(false), { skip: makeDescribe(true) });

function fail(message: string): never {
  throw new Error(message);
}

function show(v: unknown): string {
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}[${Array.from(v as unknown as ArrayLike<number>).slice(0, 8).join(", ")}...]`;
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b) || a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** The matchers test/conformance.test.ts uses. */
export function expect(actual: unknown) {
  return {
    toBe(expected: unknown) {
      if (!Object.is(actual, expected)) fail(`expected ${show(actual)} to be ${show(expected)}`);
    },
    toEqual(expected: unknown) {
      if (!deepEqual(actual, expected)) fail(`expected ${show(actual)} to equal ${show(expected)}`);
    },
    toBeLessThanOrEqual(limit: number) {
      if (!((actual as number) <= limit)) fail(`expected ${show(actual)} to be <= ${limit}`);
    },
    toBeGreaterThan(limit: number) {
      if (!((actual as number) > limit)) fail(`expected ${show(actual)} to be > ${limit}`);
    },
    toBeInstanceOf(type: new (...args: never[]) => unknown) {
      if (!(actual instanceof type)) fail(`expected ${show(actual)} to be an instance of ${type.name}`);
    },
    toContain(item: unknown) {
      if (!(actual as { includes(x: unknown): boolean }).includes(item)) fail(`expected ${show(actual)} to contain ${show(item)}`);
    },
    toBeNaN() {
      if (!Number.isNaN(actual)) fail(`expected ${show(actual)} to be NaN`);
    },
  };
}

/** One test's outcome. */
export interface Outcome {
  readonly name: string;
  readonly status: "passed" | "failed" | "skipped";
  readonly error?: string;
}

/** Runs every collected test in order (awaiting async ones) and returns the outcomes. */
export async function runAll(): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const t of registered) {
    if (t.fn === null) {
      out.push({ name: t.name, status: "skipped" });
      continue;
    }
    try {
      await t.fn();
      out.push({ name: t.name, status: "passed" });
    } catch (error) {
      out.push({ name: t.name, status: "failed", error: String((error as Error)?.message ?? error) });
    }
  }
  return out;
}
