// README examples, run as written. How this file works:
//
// - The README's ts code blocks that run are copied here verbatim between the marker lines
//   `// readme:NAME:begin` and `// readme:NAME:end`, with `"@hts/energy"` pointed at
//   "../src/index.js" (the other packages are imported as the README imports them). They run
//   when this file is loaded, in README order (the error block continues the quick start), with
//   console.log and console.error captured.
// - `BLOCKS` says where each copied block is in the README: its heading and its position
//   among the ts blocks under that heading. `NOT_RUN` lists the README's other ts blocks and
//   why they are not run. The first test checks that every copy equals its README block and
//   that every ts block of the README is in one of the two lists.
// - The other tests check that what the blocks print is what the README says they print. The
//   expected text is read from the copies' comments (a `// ...` at the end of a line is what
//   that line prints, the comment lines after a loop what the loop prints; `...` in them
//   stands for any text), or from the README's prose where it quotes the output; values the
//   README only states in words are checked against the code's results.
//
// After a rewrite of README.md: fix BLOCKS and NOT_RUN (the first test reports every block
// that moved or changed, and the headings that have ts blocks), paste the new blocks between
// the markers, and fix the anchors (the statements whose comments are read) where those
// statements changed. The helpers are in ./readme-blocks.ts, shared with packages/ep/test/readme.test.ts.

// biome-ignore-all assist/source/organizeImports: the blocks keep the README's import order
import type { Matrix } from "@hts/kernels";
import { describe, expect, it } from "vitest";
// The tests' own import, as a namespace: the names the blocks import are theirs.
import * as energyPackage from "../src/index.js";
import { type BlockPlace, captureConsole, comment, commentLines, expectCopiesMatch, readText, region, section } from "./readme-blocks.js";

const BLOCKS: Record<string, BlockPlace> = {
  "quick-start": { heading: "Quick start", index: 0 },
  counted: { heading: "`Energy` and `BoundEnergy`", index: 1 },
  errors: { heading: "Error codes", index: 0 },
  kits: { heading: "Conformance kits", index: 0 },
};
const NOT_RUN: (BlockPlace & { why: string })[] = [
  { heading: "`Energy` and `BoundEnergy`", index: 0, why: "the Energy and BoundEnergy interfaces, declarations" },
  { heading: "`Cost` and `BoundCost`", why: "the Cost and BoundCost interfaces, declarations" },
];

const printed = captureConsole();

// readme:quick-start:begin
import { allocState, hopfieldEnergy } from "../src/index.js";
import { createReferenceBackend } from "@hts/kernels";

const be = createReferenceBackend(); // float64, plain loops

// A 3-2-2 network: W_l is n_{l-1} x n_l, b_l is 1 x n_l.
const sizes = [3, 2, 2];
const params = {
  sizes,
  W: [be.matrix(3, 2, [0.5, -0.25, 0.25, 0.5, -0.5, 1]), be.matrix(2, 2, [1, -1, 0.5, 0.5])],
  b: [be.matrix(1, 2, [0.125, 0]), be.matrix(1, 2, [0, 0.125])],
};

const energy = hopfieldEnergy(); // activation: "hard-sigmoid"
const bound = energy.bind(be, params, 2); // a batch of 2 examples, work space allocated once

bound.setInput(be.matrix(2, 3, [1, 0, 0.5, 0, 1, 1])); // caches x W_1 + b_1

const state = allocState(be, sizes, 2); // s_1 (2 x 2) and s_2 (2 x 2), zero-filled
be.write(state[0], [0.5, 0.5, 0.25, 0.75]);
be.write(state[1], [0.5, 0, 1, 0.5]);

console.log(bound.value(state)); // -0.609375: E(s), averaged over the batch

const grad = allocState(be, sizes, 2); // dE/ds_l, same shapes as the state
bound.stateGradient(state, grad);
console.log(grad.map((g) => Array.from(be.read(g))));
// [ [ -0.375, 0, -0.125, -1.5 ], [ -0.25, 0.125, 0.375, 0.25 ] ]
// readme:quick-start:end

// readme:counted:begin
import type { Energy } from "../src/index.js";

/** Delegates to `inner` and counts the calls of each method in `calls`. */
function counted(inner: Energy, calls: Record<string, number>): Energy {
  const count = (k: string) => {
    calls[k] = (calls[k] ?? 0) + 1;
  };
  return {
    name: `counted-${inner.name}`,
    activation: inner.activation,
    rate: inner.rate ?? inner.activation,
    checkDynamics: (dynamics) => inner.checkDynamics?.(dynamics) ?? null,
    bind(backend, params, batch) {
      const b = inner.bind(backend, params, batch);
      return {
        batch: b.batch,
        setInput(x) {
          count("setInput");
          b.setInput(x);
        },
        value(s) {
          count("value");
          return b.value(s);
        },
        stateGradient(s, out, layers) {
          count("stateGradient");
          b.stateGradient(s, out, layers);
        },
        drive(s, out, layers) {
          count("drive");
          b.drive(s, out, layers);
        },
        paramGradient(s, out, options) {
          count("paramGradient");
          b.paramGradient(s, out, options);
        },
      };
    },
  };
}
// readme:counted:end

// The error block continues the quick start with an input of the wrong width (the README's
// message: "x must be 2 x 3, got 2 x 4").
const x = be.matrix(2, 4, [1, 0, 0.5, 0, 0, 1, 1, 0]);

// readme:errors:begin
import { EnergyError } from "../src/index.js";

try {
  bound.setInput(x);
} catch (error) {
  if (error instanceof EnergyError && error.code === "HTS_SHAPE_MISMATCH") console.error(error.message);
  else throw error;
}
// readme:errors:end

// readme:kits:begin
import { squaredError } from "../src/index.js";
import { checkCost, checkEnergy } from "../src/testing.js";

const energyReport = checkEnergy(hopfieldEnergy()); // ok: state gradient, parameter gradient, drive, layer parity, scale, accumulate, difference
const costReport = checkCost(squaredError()); // ok: state gradient, scores shape
// readme:kits:end

printed.stop();

const readme = readText(new URL("../README.md", import.meta.url));
const self = readText(new URL(import.meta.url));

describe("README examples", () => {
  it("are the code this file runs, and every ts block of the README is accounted for", () => {
    expectCopiesMatch(readme, self, BLOCKS, NOT_RUN, { "@hts/energy": "../src/index.js", "@hts/energy/testing": "../src/testing.js" });
  });

  it("conformance kits: the built-ins pass every check the comments name, in that order", () => {
    const code = region(self, "kits");
    for (const [anchor, report] of [
      ["checkEnergy(hopfieldEnergy())", energyReport],
      ["checkCost(squaredError())", costReport],
    ] as const) {
      const claim = comment(code, anchor);
      expect(claim.startsWith("ok: ")).toBe(true);
      expect(report.checks.filter((c) => !c.ok)).toEqual([]);
      expect(report.checks.map((c) => c.name).join(", ")).toBe(claim.slice("ok: ".length));
    }
  });

  // What the README's comments say the quick start prints, read from the copy (equal to the
  // README's block, the first test checks): a comment at the end of a line is what that line
  // prints, the comment lines after a statement what it prints.
  it("quick start: prints the energy and the state gradient its comments show", () => {
    const code = region(self, "quick-start");
    // "-0.609375: E(s), averaged over the batch": the value, then what it is.
    const value = comment(code, "console.log(bound.value(state))").split(": ")[0];
    // "[ [ -0.375, 0, -0.125, -1.5 ], [ -0.25, 0.125, 0.375, 0.25 ] ]"
    const gradient = commentLines(code, "console.log(grad.map(").join(" ");
    expect(printed.log, "what the quick start prints, against the README's comments").toEqual([value, gradient]);
  });

  it("quick start: the same values by hand from the formulas under Numerics", () => {
    // rho = clip to [0, 1], rho' = 1 on the closed [0, 1]; a(s_0) = x (the input is never
    // passed through rho), a(s_l) = rho(s_l); n_l = a(s_{l-1}) W_l + a(s_{l+1}) W_{l+1}^T + b_l;
    // E = 1/2 sum ||s_l||^2 - sum a(s_{l-1}) W_l . a(s_l) - sum b_l . a(s_l), averaged over the
    // batch; dE/ds_l = s_l - rho'(s_l) (.) n_l, per example.
    const rho = (v: number) => Math.min(1, Math.max(0, v));
    const drho = (v: number) => (v >= 0 && v <= 1 ? 1 : 0);
    const W = [
      [[0.5, -0.25], [0.25, 0.5], [-0.5, 1]],
      [[1, -1], [0.5, 0.5]],
    ];
    const b = [[0.125, 0], [0, 0.125]];
    const xs = [[1, 0, 0.5], [0, 1, 1]];
    const ss = [
      [[0.5, 0.5], [0.5, 0]],
      [[0.25, 0.75], [1, 0.5]],
    ]; // per example: s_1, s_2
    const L = 2;
    let e = 0;
    const grads: number[][] = [[], []];
    xs.forEach((x0, k) => {
      const s = [x0, ...(ss[k] as number[][])]; // s[0] = x, s[l] = s_l
      const a = (l: number) => (l === 0 ? x0 : s[l]!.map(rho));
      // a(s_{l-1}) W_l, column j, and a(s_{l+1}) W_{l+1}^T, entry j (0 for l = L).
      const below = (l: number, j: number) => a(l - 1).reduce((acc, u, i) => acc + u * W[l - 1]![i]![j]!, 0);
      const above = (l: number, j: number) => (l === L ? 0 : a(l + 1).reduce((acc, u, m) => acc + u * W[l]![j]![m]!, 0));
      for (let l = 1; l <= L; l++) {
        s[l]!.forEach((v, j) => {
          e += 0.5 * v * v - below(l, j) * rho(v) - b[l - 1]![j]! * rho(v);
          grads[l - 1]!.push(v - drho(v) * (below(l, j) + above(l, j) + b[l - 1]![j]!));
        });
      }
    });
    expect(e / 2).toBeCloseTo(-0.609375, 12);
    // grads[l - 1] holds example 0's row, then example 1's: the layout of the printed matrices.
    expect(grads).toEqual([
      [-0.375, 0, -0.125, -1.5],
      [-0.25, 0.125, 0.375, 0.25],
    ]);
    // "The second example's output neuron 0 sits at s = 1, where the hard sigmoid's derivative
    // is taken as 1, so its gradient is 1 - 0.625 = 0.375 and not 1."
    expect(ss[1]![1]![0]).toBe(1);
    expect(grads[1]![2]).toBe(1 - 0.625);
  });

  it("the counted() wrapper delegates every member and counts the calls", () => {
    const calls: Record<string, number> = {};
    const wrapped = counted(energy, calls);
    expect(wrapped.name).toBe("counted-hopfield");
    expect(wrapped.activation).toBe(energy.activation);
    expect(wrapped.rate).toBe(energy.rate ?? energy.activation);
    for (const rule of ["leaky", "gradient"]) expect(wrapped.checkDynamics?.(rule)).toBe(energy.checkDynamics?.(rule) ?? null);
    const inner = energy.bind(be, params, 2);
    const outer = wrapped.bind(be, params, 2);
    expect(outer.batch).toBe(2);
    const input = be.matrix(2, 3, [1, 0, 0.5, 0, 1, 1]);
    inner.setInput(input);
    outer.setInput(input);
    expect(outer.value(state)).toBe(inner.value(state));
    const read = (ms: readonly Matrix[]) => ms.map((m) => Array.from(be.read(m)));
    const [g1, g2, d1, d2] = [0, 1, 2, 3].map(() => energyPackage.allocState(be, sizes, 2));
    inner.stateGradient(state, g1!);
    outer.stateGradient(state, g2!);
    expect(read(g2!)).toEqual(read(g1!));
    inner.drive(state, d1!, "odd");
    outer.drive(state, d2!, "odd");
    expect(read(d2!)).toEqual(read(d1!));
    const [p1, p2] = [energyPackage.allocParamGradients(be, sizes), energyPackage.allocParamGradients(be, sizes)];
    inner.paramGradient(state, p1, { scale: 2 });
    outer.paramGradient(state, p2, { scale: 2 });
    expect([read(p2.W), read(p2.b)]).toEqual([read(p1.W), read(p1.b)]);
    expect(calls).toEqual({ setInput: 1, value: 1, stateGradient: 1, drive: 1, paramGradient: 1 });
  });

  it("error codes: the catch branch prints the message the README quotes", () => {
    // "... the message names the function, e.g. `hopfield.setInput: x must be 2 x 3, got 2 x 4`."
    const quoted = /e\.g\.\s+`([^`]+)`/.exec(section(readme, "Error codes"))?.[1];
    expect(quoted).toBeDefined();
    expect(printed.error, "the printed message, against the one the README quotes").toEqual([quoted]);
  });
});
