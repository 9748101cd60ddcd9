// README examples, run as written. How this file works:
//
// - The README's ts code blocks that run are copied here verbatim between the marker lines
//   `// readme:NAME:begin` and `// readme:NAME:end`, with `"@hts/ep"` pointed at
//   "../src/index.js" and `"@hts/ep/node"` at "../src/node.js" (the other packages are imported as the README imports them). They run
//   when this file is loaded, in README order (the later blocks continue the quick start), with
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
// statements changed. The helpers are in ../../energy/test/readme-blocks.ts.

// biome-ignore-all assist/source/organizeImports: the blocks keep the README's import order
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type BlockPlace, captureConsole, claimPattern, comment, commentLines, expectCopiesMatch, oneLine, readText, region } from "../../energy/test/readme-blocks.js";
// The tests' own imports, as namespaces: the names the blocks import are theirs.
import * as distributions from "@hts/distributions";
import * as energyPackage from "@hts/energy";
import type { Cost, Energy } from "@hts/energy";
import * as kernels from "@hts/kernels";
import * as ep from "../src/index.js";

const BLOCKS: Record<string, BlockPlace> = {
  "quick-start": { heading: "Quick start", index: 0 },
  checkpoints: { heading: "Quick start", index: 1 },
  errors: { heading: "Error codes", index: 0 },
};
const NOT_RUN: (BlockPlace & { why: string })[] = [
  { heading: "Network", why: "the Network interface, a declaration" },
  { heading: "Trainer", why: "the TrainerConfig interface, a declaration" },
  { heading: "Evaluation on its own", why: "a fragment: backend, bytes, energy, cost and test are the reader's (test/evaluate.test.ts runs the evaluator)" },
  { heading: "Seeds and determinism", why: "a fragment: `seed` is the command line's --seed" },
];

const printed = captureConsole();

// readme:quick-start:begin
import { clamp, createRng, lognormal } from "@hts/distributions";
import { createCost, hopfieldEnergy } from "@hts/energy";
import { createNetwork, createTrainer } from "../src/index.js";
import { createCpuBackend } from "@hts/kernels";

const backend = createCpuBackend(); // cpu-f32

// dt_i: lognormal with mean 0.3 and sd 0.1, clipped to [1e-3, 0.5], drawn once per neuron.
const dt = clamp(lognormal({ mean: 0.3, sd: 0.1 }), { min: 1e-3, max: 0.5, mode: "clip" });

// One seed, independent streams: the weights from the generator, dt from a jump ahead of it.
const weightRng = createRng(7);
const dtRng = weightRng.jump();
const network = createNetwork({ backend, sizes: [4, 8, 2], dt, weightRng, dtRng });

const trainer = createTrainer({
  network,
  energy: hopfieldEnergy(), // hard sigmoid
  cost: createCost("mse"),
  config: {
    t1: 30, // free-phase steps
    t2: 10, // nudged-phase steps
    beta: 0.5,
    nudge: "one-sided",
    dynamics: "leaky",
    batch: 4,
    optimizer: { name: "sgd", lr: [0.2, 0.1] }, // one rate per weight layer
  },
});

// Class 0 lights the first two inputs, class 1 the last two (B x n_0, row-major).
const x = Float32Array.from([1, 1, 0, 0, 0, 0, 1, 1, 0.9, 0.8, 0, 0.1, 0.1, 0, 0.8, 1]);
const labels = [0, 1, 0, 1];

for (let i = 1; i <= 50; i++) {
  const r = trainer.trainBatch(x, labels); // free phase, nudged phase, one update
  if (i === 1 || i % 10 === 0) console.log(i, r.correct, r.cost.toFixed(4));
}
// 1 0 0.4126
// 10 4 0.0262
// 20 4 0.0009
// 30 4 0.0000 ...
console.log(Array.from(trainer.predict(x, 4))); // [ 0, 1, 0, 1 ]
// readme:quick-start:end

// The checkpoint block writes model.safetensors into the working folder: a temporary one.
const home = process.cwd();
const workDir = mkdtempSync(join(tmpdir(), "ep-readme-"));
process.chdir(workDir);

// readme:checkpoints:begin
import { networkFromSnapshot } from "../src/index.js";
import { loadCheckpoint, saveCheckpoint } from "../src/node.js";

const data = { images: x, labels: Uint8Array.from(labels), count: 4, dim: 4 };
console.log(trainer.evaluate(data)); // { examples: 4, accuracy: 1, cost: ..., freeResidual: ..., freeStepSize: ..., freeSteps: 30 }

await saveCheckpoint("model.safetensors", network, { note: "quick start" });
const { snapshot, config } = await loadCheckpoint("model.safetensors"); // config: { note: "quick start" }
const again = networkFromSnapshot(createCpuBackend(), snapshot); // the same W, b and dt
// readme:checkpoints:end

process.chdir(home);
const atSave = ep.snapshotNetwork(network);

// The error block as the README has it, on a minibatch with a NaN pixel (example 0, input 0),
// so that its catch branch runs and prints the location.
x[0] = Number.NaN;

// readme:errors:begin
import { EpError } from "../src/index.js";

try {
  trainer.trainBatch(x, labels);
} catch (error) {
  if (error instanceof EpError && error.code === "HTS_NON_FINITE_STATE") console.error(error.location);
  else throw error;
}
// e.g. { phase: "free", step: 1, layer: 1, neuron: 3, index: 0, value: NaN }
// readme:errors:end

printed.stop();
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const readme = readText(new URL("../README.md", import.meta.url));
const self = readText(new URL(import.meta.url));

describe("README examples", () => {
  it("are the code this file runs, and every ts block of the README is accounted for", () => {
    expectCopiesMatch(readme, self, BLOCKS, NOT_RUN, { "@hts/ep": "../src/index.js", "@hts/ep/node": "../src/node.js" });
  });

  // What the README's comments say each block prints, read from the copies (equal to the
  // README's blocks, the first test checks): a comment at the end of a line is what that line
  // prints, a run of comment lines after a loop what the loop prints.
  it("quick start: prints the costs and the predictions of its comments", () => {
    const code = region(self, "quick-start");
    // "1 0 0.4126", "10 4 0.0262", "20 4 0.0009", "30 4 0.0000 ...": i = 1, 10, ..., 50, the
    // last shown line standing for the ones after it.
    const loop = commentLines(code, "console.log(i, r.correct");
    const shown = loop.map((l) => l.replace(/ \.\.\.$/, ""));
    const last = (shown.at(-1) as string).split(" ").slice(1).join(" ");
    const expected = [1, 10, 20, 30, 40, 50].map((i, k) => shown[k] ?? `${i} ${last}`);
    expect(printed.log.slice(0, 6), "what the loop prints, against the README's comments").toEqual(expected);
    // "[ 0, 1, 0, 1 ]"
    expect(printed.log[6], "what predict prints, against the README's comment").toBe(comment(code, "console.log(Array.from(trainer.predict(x, 4)))"));
  });

  it("evaluation and checkpoints: print and return what their comments say", () => {
    const code = region(self, "checkpoints");
    // "{ examples: 4, accuracy: 1, cost: ..., freeResidual: ..., ... }" on one line, where
    // Node breaks the object over several.
    expect(oneLine(printed.log[7]), "what evaluate prints, against the README's comment").toMatch(claimPattern(comment(code, "console.log(trainer.evaluate(data))")));
    expect(printed.log).toHaveLength(8);
    // "config: { note: "quick start" }"
    expect(comment(code, "await loadCheckpoint(")).toBe('config: { note: "quick start" }');
    expect(config).toEqual({ note: "quick start" });
    // "the same W, b and dt" (as the network had when it was saved).
    expect(comment(code, "networkFromSnapshot(")).toBe("the same W, b and dt");
    const loaded = ep.snapshotNetwork(again);
    expect(loaded.W).toEqual(atSave.W);
    expect(loaded.b).toEqual(atSave.b);
    expect(loaded.dt).toEqual(atSave.dt);
    expect(existsSync(join(workDir, "model.safetensors"))).toBe(true);
  });

  it("swapping components: the calls the trainer makes on the energy and the cost, per minibatch", () => {
    // "The trainer calls, on the energy, setInput once per minibatch, drive (leaky rule) or
    // stateGradient (gradient rule) at every step, and paramGradient twice per update; on the
    // cost, gradient at every nudged step and value once per minibatch", and, under "What is
    // read back", one more drive or gradient evaluation for the free phase's residual. With
    // T1 = 30 and T2 = 10: drive 30 + 10 + 1 times (leaky rule, one-sided nudging),
    // stateGradient 30 + 10 + 10 + 1 times (gradient rule, symmetric). The cost's scores (the
    // predictions, from the @hts/energy README) once per minibatch.
    const count = (dynamics: "leaky" | "gradient", nudge: "one-sided" | "symmetric") => {
      const calls: Record<string, number> = {};
      const tally = (k: string) => {
        calls[k] = (calls[k] ?? 0) + 1;
      };
      const inner = energyPackage.hopfieldEnergy();
      const energy: Energy = {
        name: "counted",
        activation: inner.activation,
        rate: inner.rate ?? inner.activation,
        checkDynamics: (rule) => inner.checkDynamics?.(rule) ?? null,
        bind(be, params, batch) {
          const b = inner.bind(be, params, batch);
          return {
            batch: b.batch,
            setInput(xs) {
              tally("setInput");
              b.setInput(xs);
            },
            value(st) {
              tally("value");
              return b.value(st);
            },
            stateGradient(st, out, layers) {
              tally("stateGradient");
              b.stateGradient(st, out, layers);
            },
            drive(st, out, layers) {
              tally("drive");
              b.drive(st, out, layers);
            },
            paramGradient(st, out, options) {
              tally("paramGradient");
              b.paramGradient(st, out, options);
            },
          };
        },
      };
      const mse = energyPackage.createCost("mse");
      const cost: Cost = {
        name: "counted-mse",
        readout: mse.readout,
        bind(be, options) {
          const c = mse.bind(be, options);
          return {
            value(sL, y) {
              tally("cost.value");
              return c.value(sL, y);
            },
            gradient(sL, y, out) {
              tally("cost.gradient");
              c.gradient(sL, y, out);
            },
            scores(sL) {
              tally("cost.scores");
              return c.scores(sL);
            },
          };
        },
      };
      const rng = distributions.createRng(7);
      const net = ep.createNetwork({ backend: kernels.createCpuBackend(), sizes: [4, 8, 2], dt: 0.3, weightRng: rng, dtRng: rng.jump() });
      const t = ep.createTrainer({ network: net, energy, cost, config: { t1: 30, t2: 10, beta: 0.5, nudge, dynamics, batch: 4, optimizer: { name: "sgd", lr: [0.1, 0.1] } } });
      t.trainBatch(Float32Array.from([1, 1, 0, 0, 0, 0, 1, 1, 0.9, 0.8, 0, 0.1, 0.1, 0, 0.8, 1]), [0, 1, 0, 1]);
      return calls;
    };
    expect(count("leaky", "one-sided")).toEqual({ setInput: 1, drive: 41, paramGradient: 2, "cost.gradient": 10, "cost.value": 1, "cost.scores": 1 });
    expect(count("gradient", "symmetric")).toEqual({ setInput: 1, stateGradient: 51, paramGradient: 2, "cost.gradient": 20, "cost.value": 1, "cost.scores": 1 });
  });

  it("error codes: the catch branch prints a location like the comment's", () => {
    // "e.g. { phase: "free", step: 1, layer: 1, neuron: 3, index: 0, value: NaN }": an
    // example; here the first neuron with NaN is 0 (a NaN pixel reaches every neuron of
    // layer 1). Node prints strings in single quotes.
    const claim = (commentLines(region(self, "errors"), "console.error(error.location)")[0] as string).replace(/^e\.g\. /, "");
    expect(printed.error).toHaveLength(1);
    expect(oneLine(printed.error[0]).replaceAll("'", '"'), "the printed location, against the README's example").toMatch(claimPattern(claim.replace(/neuron: \d+/, "neuron: ...")));
  });
});
