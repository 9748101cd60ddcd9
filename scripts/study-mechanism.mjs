#!/usr/bin/env node
// The exploratory mechanism analysis of the study's step-budget cells (docs/study-protocol.md,
// "The mechanism analysis"): reruns runs of a study file with the training session and, before
// training and after every epoch, relaxes one fixed probe minibatch (the first `batch`
// training examples) with per-step observation, recording
//   - converged: the share of neurons (examples x hidden and output units) whose own dt-free
//     residual |rho(drive) - s| is below 1e-2 at the end of the free phase (the budget T1);
//   - fast: among those converged neurons, the share with dt_i above the layer's mean dt
//     (and, for comparison, that share among all neurons);
//   - the EP update of the probe per tensor against the same update with T1 = 100 (the
//     paper's budget, same T2): the ratio of norms and the cosine.
//   node scripts/study-mechanism.mjs STUDY_FOLDER --configs A,B --seed 0 --out FILE.json [--svg FILE.svg]
// STUDY_FOLDER: a study folder's (or its committed summaries') study.json, the definition `hts study` ran.
// After `pnpm build`. Nothing here is tested by the protocol; the figures are reported as curves.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const study = await import(join(root, "packages/study/dist/node.js"));
const { createCost, createEnergy } = await import(join(root, "packages/energy/dist/index.js"));
const { createTrainer, snapshotNetwork } = await import(join(root, "packages/ep/dist/index.js"));

const CONVERGED = 1e-2;
const REFERENCE_T1 = 100;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { configs: { type: "string" }, seed: { type: "string", default: "0" }, out: { type: "string" }, svg: { type: "string" } },
});
const file = positionals[0];
if (file === undefined || values.configs === undefined || values.out === undefined) {
  console.error("usage: node scripts/study-mechanism.mjs STUDY_FOLDER --configs A,B --seed 0 --out FILE.json [--svg FILE.svg]");
  process.exit(2);
}
const seed = Number(values.seed);
const { definition } = JSON.parse(readFileSync(join(file, "study.json"), "utf8"));
const plan = study.planStudy(definition);
const wanted = values.configs.split(",");
for (const name of wanted) {
  if (!plan.some((r) => r.config.name === name)) {
    console.error(`--configs: no configuration "${name}" in ${file}; it has ${[...new Set(plan.map((r) => r.config.name))].join(", ")}`);
    process.exit(2);
  }
}

const rho = (x) => (x < 0 ? 0 : x > 1 ? 1 : x);
const norm = (a) => Math.sqrt(a.reduce((s, x) => s + x * x, 0));
const dot = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);

/** Per-neuron dt-free residuals |rho(drive_l) - s_l| of state `s` (batch x n_l per layer) with input x; SPEC section 3. */
function residuals(snap, x, s, batch) {
  const { sizes, W, b } = snap;
  const L = sizes.length - 1;
  const layers = [x, ...s];
  return s.map((sl, l) => {
    const n = sizes[l + 1];
    const nPrev = sizes[l];
    const prev = layers[l];
    const next = l + 1 < L ? layers[l + 2] : null;
    const nNext = l + 1 < L ? sizes[l + 2] : 0;
    const Wl = W[l]; // nPrev x n
    const Wn = l + 1 < L ? W[l + 1] : null; // n x nNext
    const r = new Float64Array(batch * n);
    for (let e = 0; e < batch; e++) {
      for (let j = 0; j < n; j++) {
        let d = b[l][j];
        for (let i = 0; i < nPrev; i++) d += prev[e * nPrev + i] * Wl[i * n + j];
        if (next !== null) for (let k = 0; k < nNext; k++) d += next[e * nNext + k] * Wn[j * nNext + k];
        r[e * n + j] = Math.abs(rho(d) - sl[e * n + j]);
      }
    }
    return r;
  });
}

/**
 * The two observers of a run (made once: a trainer's buffers live as long as the backend):
 * `estimate` at the run's budget, keeping the last free state, and at T1 = 100. Both read the
 * run's network where it lives and apply nothing.
 */
function observers(run) {
  const { spec } = run;
  const seen = { state: null, residual: null };
  const make = (t1, onStep) =>
    createTrainer({
      network: run.network,
      energy: createEnergy(spec.energy, spec.activation),
      cost: createCost(spec.cost),
      config: { ...run.trainer.config, t1, persistent: false, nudge: spec.nudge === "random-sign" ? "one-sided" : spec.nudge },
      onStep,
    });
  const own = make(run.trainer.config.t1, (st) => {
    if (st.phase === "free" && st.step === run.trainer.config.t1) {
      seen.state = st.state();
      seen.residual = st.residual();
    }
  });
  return { own, reference: make(REFERENCE_T1, undefined), seen };
}

/** One probe: the estimate at the run's budget with the last free state, and the estimate at T1 = 100. */
function probe(run, obs, x, labels) {
  obs.seen.state = null;
  const own = obs.own.estimate(x, labels);
  const reference = obs.reference.estimate(x, labels);
  const last = obs.seen.state;
  const reported = obs.seen.residual;
  if (last === null) throw new Error("the free phase stopped before its last step (a tolerance?): no state at T1");
  const snap = snapshotNetwork(run.network);
  const batch = labels.length;
  const r = residuals(snap, x, last, batch);
  let converged = 0;
  let total = 0;
  let fastConverged = 0;
  let fastAll = 0;
  let maxResidual = 0;
  r.forEach((rl, l) => {
    const dt = snap.dt[l];
    const n = dt.length;
    const meanDt = dt.reduce((s, v) => s + v, 0) / n;
    for (let e = 0; e < batch; e++) {
      for (let j = 0; j < n; j++) {
        const v = rl[e * n + j];
        maxResidual = Math.max(maxResidual, v);
        const fast = dt[j] > meanDt * (1 + 1e-6);
        total++;
        if (fast) fastAll++;
        if (v < CONVERGED) {
          converged++;
          if (fast) fastConverged++;
        }
      }
    }
  });
  const tensors = [...own.W.map((g, l) => [`W${l + 1}`, g, reference.W[l]]), ...own.b.map((g, l) => [`b${l + 1}`, g, reference.b[l]])];
  return {
    converged: converged / total,
    fastAmongConverged: converged > 0 ? fastConverged / converged : null,
    fastAmongAll: fastAll / total,
    maxResidual,
    reportedResidual: reported,
    update: Object.fromEntries(
      tensors.map(([name, g, ref]) => {
        const a = Array.from(g);
        const c = Array.from(ref);
        return [name, { normRatio: norm(a) / norm(c), cosine: dot(a, c) / (norm(a) * norm(c)) }];
      }),
    ),
  };
}

const results = [];
for (const name of wanted) {
  const planned = plan.find((r) => r.config.name === name && r.seed === seed);
  if (planned === undefined) throw new Error(`--seed ${seed}: not a seed of ${file}`);
  const data = await study.loadRunData(planned.spec);
  const backend = await study.runBackend(planned.spec.backend);
  const run = study.prepareRun({ spec: planned.spec, data, backend });
  const { train } = run.data;
  const n = Math.min(planned.spec.batch, train.count);
  const x = train.images.slice(0, n * train.dim);
  const labels = train.labels.slice(0, n);
  const obs = observers(run);
  const epochs = [{ epoch: 0, testAccuracy: null, ...probe(run, obs, x, labels) }];
  for (;;) {
    const outcome = run.session.next();
    if (outcome.status === "done") break;
    epochs.push({ epoch: outcome.record.epoch, testAccuracy: outcome.record.testAccuracy ?? null, ...probe(run, obs, x, labels) });
    if (outcome.status === "diverged") break;
  }
  const row = { config: name, seed, t1: run.trainer.config.t1, t2: run.trainer.config.t2, dist: planned.spec.dt.name ?? planned.config.dist, epochs };
  results.push(row);
  for (const e of epochs) {
    const u = Object.entries(e.update).map(([k, v]) => `${k} ${v.normRatio.toFixed(2)}/${v.cosine.toFixed(2)}`).join(" ");
    console.log(`${name} seed ${seed} epoch ${e.epoch}: converged ${(100 * e.converged).toFixed(1)}%, fast among converged ${e.fastAmongConverged === null ? "-" : (100 * e.fastAmongConverged).toFixed(1)}% (all ${(100 * e.fastAmongAll).toFixed(1)}%), max residual ${e.maxResidual.toExponential(2)} (reported ${e.reportedResidual?.toExponential(2)}), update norm ratio/cosine vs T1=${REFERENCE_T1}: ${u}`);
  }
}

study.writeFileAtomic(values.out, `${JSON.stringify({ format: "hts-study-mechanism/1", study: file, converged: CONVERGED, referenceT1: REFERENCE_T1, runs: results }, null, 1)}\n`);
if (values.svg !== undefined) {
  const points = results.flatMap((r) =>
    r.epochs.flatMap((e) => [
      { config: r.config, epoch: e.epoch, measure: "converged share", value: e.converged },
      { config: r.config, epoch: e.epoch, measure: "W1 update cosine vs T1=100", value: e.update.W1.cosine },
      { config: r.config, epoch: e.epoch, measure: "W1 update norm ratio vs T1=100", value: e.update.W1.normRatio },
    ]),
  );
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `Step budget: probe minibatch, seed ${seed} (${file})`,
    data: { values: points },
    facet: { column: { field: "measure", type: "nominal", title: null } },
    spec: {
      width: 200,
      height: 150,
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "epoch", type: "quantitative", axis: { tickMinStep: 1, format: "d" } },
        y: { field: "value", type: "quantitative", title: null, scale: { zero: false } },
        color: { field: "config", type: "nominal", title: null, legend: { orient: "top" } },
      },
    },
    resolve: { scale: { y: "independent" } },
  };
  study.writeFileAtomic(values.svg, await study.renderSvg(spec));
}
console.log(`wrote ${values.out}${values.svg ? ` and ${values.svg}` : ""}`);
