/**
 * The playground page: the settings form (from settings.ts), the training worker (through
 * Comlink), the live views, the model's export and import, and "try it". Everything numeric
 * is the libraries': the worker trains with `@hts/study`, "try it" relaxes with
 * `createEvaluator` of `@hts/ep`, the histogram is `drawDtHistogram` of `@hts/study`.
 */
import type { IdxFileBytes } from "@hts/datasets";
import type { DivergedRecord, EpochRecord } from "@hts/ep";
import { drawDtHistogram, runDistribution } from "@hts/study";
import * as Comlink from "comlink";
import { type Chart, histogramChart, lineChart } from "./charts.js";
import { drawFields } from "./fields.js";
import { CTRL_PAUSED, CTRL_SLOTS, CTRL_STEPS, CTRL_STOP, type DataChoice, type RunOutcome, type TrainEvent } from "./protocol.js";
import { defaultValues, FIELDS, GROUPS, hashOf, pageOf, specOf, type Values, valuesOfUrl } from "./settings.js";
import type { TrainApi } from "./train-worker.js";
import { createTryIt } from "./try-it.js";
import "./style.css";

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

/** What the tests read: the last run's outcome, the events seen, the errors. */
interface PageState {
  running: boolean;
  outcome: RunOutcome | null;
  epochs: EpochRecord[];
  twin: EpochRecord[];
  backend: string | null;
  reason: string | null;
  threads: number;
  lastSamplesPerSecond: number | null;
  model: Uint8Array | null;
}
const state: PageState = { running: false, outcome: null, epochs: [], twin: [], backend: null, reason: null, threads: 1, lastSamplesPerSecond: null, model: null };
(globalThis as { __hts?: PageState }).__hts = state;

const isolated = globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer === "function";
// Threads by default: one core fewer than the browser reports (the page and the browser need
// one), at most 4. The threads meet after every queued batch of operations, so on a busy
// machine, where one of them is often descheduled, more threads can be much slower than one.
const defaults = defaultValues(isolated ? Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 1) - 1)) : 1);
const parsed = valuesOfUrl(new URL(location.href), defaults);
let values: Values = parsed.values;
let dataChoice: DataChoice = { kind: "embedded", base: new URL("mnist", document.baseURI).href };

// ---- the settings form ----------------------------------------------------------------
const form = $<HTMLFormElement>("settings");
const inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
const errors = new Map<string, HTMLElement>();
for (const group of GROUPS) {
  const fs = document.createElement("fieldset");
  const legend = document.createElement("legend");
  legend.textContent = group;
  fs.append(legend);
  for (const f of FIELDS.filter((x) => x.group === group)) {
    const id = `f-${f.key.replace(".", "-")}`;
    const row = document.createElement("div");
    row.className = "field";
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = f.label;
    let input: HTMLInputElement | HTMLSelectElement;
    if (f.kind === "enum") {
      const sel = document.createElement("select");
      for (const o of f.options ?? []) sel.append(new Option(o, o));
      input = sel;
    } else {
      const inp = document.createElement("input");
      if (f.kind === "bool") inp.type = "checkbox";
      else if (f.kind === "list") inp.type = "text";
      else {
        inp.type = "number";
        inp.step = f.step ?? (f.kind === "num" ? "any" : "1");
      }
      input = inp;
    }
    input.id = id;
    input.name = f.key;
    input.dataset.testid = `field-${f.key}`;
    const err = document.createElement("p");
    err.className = "error";
    err.id = `${id}-error`;
    err.setAttribute("role", "alert");
    err.dataset.testid = `error-${f.key}`;
    input.setAttribute("aria-describedby", err.id + (f.help ? ` ${id}-help` : ""));
    row.append(label, input);
    if (f.help) {
      const help = document.createElement("span");
      help.className = "help";
      help.id = `${id}-help`;
      help.textContent = f.help;
      row.append(help);
    }
    row.append(err);
    fs.append(row);
    inputs.set(f.key, input);
    errors.set(f.key, err);
  }
  form.append(fs);
}

function writeControls(): void {
  for (const [key, input] of inputs) {
    if (input instanceof HTMLInputElement && input.type === "checkbox") input.checked = values[key] === "1" || values[key] === "true";
    else input.value = values[key] ?? "";
  }
}
function readControls(): Values {
  const v: Values = {};
  for (const [key, input] of inputs) v[key] = input instanceof HTMLInputElement && input.type === "checkbox" ? (input.checked ? "1" : "0") : input.value;
  return v;
}

/** Shows `message` next to the control of `parameter` (or in the status line when no control matches). */
function showError(parameter: string | null, message: string): void {
  const key = parameter && errors.has(parameter) ? parameter : parameter?.split(".")[0] && errors.has(parameter.split(".")[0] as string) ? (parameter.split(".")[0] as string) : null;
  if (key) {
    (errors.get(key) as HTMLElement).textContent = message;
    inputs.get(key)?.setAttribute("aria-invalid", "true");
  } else setStatus(`Error: ${message}`);
}
function clearErrors(): void {
  for (const [key, e] of errors) {
    e.textContent = "";
    inputs.get(key)?.removeAttribute("aria-invalid");
  }
}

/** Validates with the library, shows the first error next to its control; true when valid. */
function validate(): boolean {
  clearErrors();
  try {
    const spec = specOf(values);
    pageOf(values);
    updateHistogram(spec.dt);
    return true;
  } catch (e) {
    const err = e as { parameter?: string; message: string };
    showError(err.parameter ?? null, err.message);
    return false;
  }
}

form.addEventListener("input", () => {
  values = readControls();
  history.replaceState(null, "", `${location.pathname}${location.search}${hashOf(values, defaults)}`);
  validate();
});
form.addEventListener("submit", (e) => e.preventDefault());

// ---- charts -----------------------------------------------------------------------------
const hist = histogramChart($("histogram"));
let histKey = "";
function updateHistogram(dt: Parameters<typeof runDistribution>[0]): void {
  const key = JSON.stringify(dt);
  if (key === histKey) return;
  histKey = key;
  const h = drawDtHistogram(runDistribution(dt), { count: 20_000, seed: 1, min: dt.min, max: dt.max });
  hist.set([h.bins.map((b) => (b.lo + b.hi) / 2), h.bins.map((b) => b.inside), h.bins.map((b) => b.clamped)]);
  $("histogram-note").textContent = `${dt.dist}: ${(100 * h.fractionAtMin).toFixed(1)} % at the lower bound, ${(100 * h.fractionAtMax).toFixed(1)} % at the upper bound.`;
}
const accChart = lineChart($("accuracy-chart"), { title: "accuracy (%)", x: "epoch", series: ["train (running)", "validation", "test"], points: true });
const costChart = lineChart($("cost-chart"), { title: "cost", x: "epoch", series: ["train", "test"], points: true });
const traceCharts: Record<string, Chart> = {
  energy: lineChart($("trace-energy"), { title: "energy E(s), batch mean", x: "step", series: ["free", "nudged (+beta)", "nudged (-beta)"], height: 160 }),
  cost: lineChart($("trace-cost"), { title: "cost C, batch mean", x: "step", series: ["free", "nudged (+beta)", "nudged (-beta)"], height: 160 }),
  residual: lineChart($("trace-residual"), { title: "dt-free residual (log)", x: "step", series: ["free", "nudged (+beta)", "nudged (-beta)"], height: 160, log: true }),
};
const twinChart = lineChart($("twin-chart"), { title: "test accuracy (%)", x: "epoch", series: ["scalar dt (constant)", "chosen distribution"], points: true });

function pct(x: number | null | undefined): string {
  return typeof x === "number" && Number.isFinite(x) ? `${(100 * x).toFixed(2)} %` : "-";
}
function setStatus(s: string): void {
  $("status").textContent = s;
}

function drawEpochs(): void {
  const e = state.epochs;
  const x = e.map((r) => r.epoch);
  const p = (v: number | null | undefined) => (typeof v === "number" ? 100 * v : null);
  accChart.set([x, e.map((r) => p(r.trainAccuracy)), e.map((r) => p(r.validationAccuracy)), e.map((r) => p(r.testAccuracy))]);
  costChart.set([x, e.map((r) => r.trainCost), e.map((r) => r.testCost)]);
  const body = $("epochs").querySelector("tbody") as HTMLElement;
  body.replaceChildren(
    ...e.map((r) => {
      const tr = document.createElement("tr");
      for (const c of [String(r.epoch), pct(r.trainAccuracy), pct(r.validationAccuracy), pct(r.testAccuracy), r.trainCost.toFixed(4), r.freeResidual.toExponential(2), r.samplesPerSecond.toFixed(0)]) {
        const td = document.createElement("td");
        td.textContent = c;
        tr.append(td);
      }
      return tr;
    }),
  );
  const n = Math.max(state.twin.length, e.length);
  const epochs = Array.from({ length: n }, (_, i) => i + 1);
  twinChart.set([epochs, epochs.map((i) => p(state.twin[i - 1]?.testAccuracy ?? null)), epochs.map((i) => p(e[i - 1]?.testAccuracy ?? null))]);
}

function onEvent(ev: TrainEvent): void {
  if (ev.type === "ready") {
    state.backend = ev.backend;
    state.reason = ev.reason;
    state.threads = ev.threads;
    $("backend").textContent = `Backend: ${ev.backend}, ${ev.threads} thread${ev.threads === 1 ? "" : "s"}. Why: ${ev.reason}`;
    $("run-data").textContent = `Data: ${ev.source}: ${ev.trainExamples} train, ${ev.validationExamples ? `${ev.validationExamples} validation, ` : ""}${ev.testExamples} test.`;
    // The library's own line about the network (layer sizes, the dt drawn: mean, min, max).
    $("run-network").textContent = ev.log.split("\n").find((l) => l.startsWith("network:")) ?? "";
    setStatus(`Training.${ev.warnings.length ? ` Warning: ${ev.warnings.join("; ")}` : ""}`);
  } else if (ev.type === "batch") {
    if (ev.run === "main") {
      state.lastSamplesPerSecond = ev.samplesPerSecond;
      $("sps").textContent = ev.samplesPerSecond.toFixed(0);
      $("epoch").textContent = `${ev.epoch} (${ev.done}/${ev.total} minibatches)`;
      ($("progress") as HTMLProgressElement).value = ev.done / ev.total;
    } else {
      setStatus(`Scalar-dt twin: epoch ${ev.epoch}, ${ev.done}/${ev.total} minibatches`);
    }
  } else if (ev.type === "epoch") {
    if ("status" in ev.record) {
      setStatus(`Diverged (${ev.run}): ${(ev.record as DivergedRecord).error}`);
      return;
    }
    const r = ev.record as EpochRecord;
    if (ev.run === "main") {
      state.epochs.push(r);
      if (r.testAccuracy !== null) $("test-accuracy").textContent = pct(r.testAccuracy);
    } else state.twin.push(r);
    drawEpochs();
  } else if (ev.type === "trace") {
    for (const key of ["energy", "cost", "residual"] as const) {
      const phases = ["free", "nudged", "nudged-negative"];
      const steps = ev.steps;
      const x: number[] = [];
      const ys = phases.map(() => [] as (number | null)[]);
      // One x axis: the free steps, then the nudged steps after them (both nudged phases start at T1).
      const t1 = steps.filter((s) => s.phase === "free").length;
      const at = new Map<number, (number | null)[]>();
      for (const s of steps) {
        const xi = s.phase === "free" ? s.step : t1 + s.step;
        let row = at.get(xi);
        if (!row) {
          row = phases.map(() => null);
          at.set(xi, row);
        }
        const v = s[key];
        row[phases.indexOf(s.phase)] = key === "residual" && v <= 0 ? null : v;
      }
      for (const xi of [...at.keys()].sort((a, b) => a - b)) {
        x.push(xi);
        const row = at.get(xi) as (number | null)[];
        for (const [i, v] of row.entries()) ys[i]?.push(v);
      }
      traceCharts[key]?.set([x, ...ys]);
    }
  } else if (ev.type === "fields") {
    drawFields($<HTMLCanvasElement>("fields"), ev.W1, ev.dt1, ev.n0, ev.n1);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of ev.dt1) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    $("fields-note").textContent = `First ${ev.n1} hidden units; frame colour: dt from ${lo.toFixed(3)} (blue) to ${hi.toFixed(3)} (red); weights blue (negative) to red (positive).`;
  } else if (ev.type === "model") {
    state.model = ev.bytes;
    ($("export") as HTMLButtonElement).disabled = false;
    tryIt.setModel(ev.bytes, `trained, epoch ${ev.epoch}`);
  } else if (ev.type === "paused") {
    setStatus(ev.paused ? `Paused at epoch ${ev.epoch}, minibatch ${ev.done}.` : "Training.");
  }
}

// ---- the worker and its controls ---------------------------------------------------------
let worker: Worker | null = null;
let api: Comlink.Remote<TrainApi> | null = null;
let control: Int32Array | null = null;

function newWorker(): void {
  worker?.terminate();
  worker = new Worker(new URL("./train-worker.ts", import.meta.url), { type: "module", name: "hts-train" });
  api = Comlink.wrap<TrainApi>(worker);
  control = isolated ? new Int32Array(new SharedArrayBuffer(CTRL_SLOTS * 4)) : null;
}
newWorker();
$("control-note").textContent = isolated
  ? "Cross-origin isolated: pause and one minibatch act at the next minibatch; wasm-f32 may run on several threads."
  : "Not cross-origin isolated (the server sends no COOP/COEP headers): wasm-f32 runs on one thread, and pause and one step act between epochs.";

async function play(startPaused = false): Promise<void> {
  if (state.running) {
    if (control) {
      Atomics.store(control, CTRL_PAUSED, 0);
      Atomics.notify(control, CTRL_PAUSED);
    } else await api?.control("play");
    return;
  }
  values = readControls();
  if (!validate()) return;
  // Every run on a fresh worker: a fresh backend, and the memory of the last run given back.
  if (state.outcome !== null) newWorker();
  const spec = specOf(values);
  const page = pageOf(values);
  state.running = true;
  state.outcome = null;
  state.epochs = [];
  state.twin = [];
  drawEpochs();
  $("test-accuracy").textContent = "-";
  setStatus("Loading the data and the backend...");
  if (control) {
    Atomics.store(control, CTRL_PAUSED, startPaused ? 1 : 0);
    Atomics.store(control, CTRL_STEPS, startPaused ? 1 : 0);
    Atomics.store(control, CTRL_STOP, 0);
  }
  try {
    const outcome = await (api as Comlink.Remote<TrainApi>).start(
      { spec, backend: page.backend, threads: page.threads, twin: page.twin, data: dataChoice, control: (control?.buffer as SharedArrayBuffer | undefined) ?? null, paused: startPaused && !control },
      Comlink.proxy(onEvent),
    );
    state.outcome = outcome;
    if (outcome.status === "error") {
      showError(outcome.parameter, outcome.message ?? "error");
      setStatus(`Error: ${outcome.message}`);
    } else if (outcome.status === "ok") setStatus(`Done: ${outcome.epochs} epoch(s), final test accuracy ${pct(outcome.finalTestAccuracy)}.`);
    else setStatus(`${outcome.status === "stopped" ? "Stopped" : "Diverged"} after ${outcome.epochs} epoch(s).${outcome.message ? ` ${outcome.message}` : ""}`);
  } catch (e) {
    state.outcome = { status: "error", message: String(e), parameter: null, finalTestAccuracy: null, epochs: 0 };
    setStatus(`Error: ${String(e)}`);
  } finally {
    state.running = false;
  }
}

$("play").addEventListener("click", () => void play());
$("pause").addEventListener("click", () => {
  if (!state.running) return;
  if (control) Atomics.store(control, CTRL_PAUSED, 1);
  else void api?.control("pause");
  setStatus(control ? "Pausing at the next minibatch..." : "Pausing after this epoch...");
});
$("step").addEventListener("click", () => {
  if (!state.running) return void play(true);
  if (control) {
    Atomics.store(control, CTRL_PAUSED, 1);
    Atomics.add(control, CTRL_STEPS, 1);
    Atomics.notify(control, CTRL_PAUSED);
  } else void api?.control("step");
});
$("reset").addEventListener("click", () => {
  newWorker();
  state.running = false;
  state.epochs = [];
  state.twin = [];
  state.outcome = null;
  drawEpochs();
  $("epoch").textContent = "-";
  $("sps").textContent = "-";
  $("test-accuracy").textContent = "-";
  ($("progress") as HTMLProgressElement).value = 0;
  setStatus("Reset: a new worker; press Play to train from the seed again.");
});

// ---- data: the user's IDX files -----------------------------------------------------------
const IDX_KEYS: Record<string, keyof IdxFileBytes> = { "train-images": "trainImages", "train-labels": "trainLabels", "t10k-images": "testImages", "t10k-labels": "testLabels" };
async function useIdx(files: FileList | File[]): Promise<void> {
  const got: Partial<Record<keyof IdxFileBytes, Uint8Array>> = {};
  for (const f of Array.from(files)) {
    const key = Object.entries(IDX_KEYS).find(([prefix]) => f.name.startsWith(prefix))?.[1];
    if (key) got[key] = new Uint8Array(await f.arrayBuffer());
  }
  const missing = Object.entries(IDX_KEYS).filter(([, k]) => !got[k]).map(([p]) => `${p}-idx*-ubyte[.gz]`);
  if (missing.length) {
    $("idx-status").textContent = `Missing: ${missing.join(", ")} (files named as MNIST's).`;
    return;
  }
  dataChoice = { kind: "idx", name: Array.from(files).map((f) => f.name).join(", "), files: got as IdxFileBytes };
  $("idx-status").textContent = `Data: your IDX files (${dataChoice.name}). Training examples / test examples limit them.`;
}
$<HTMLInputElement>("idx-files").addEventListener("change", (e) => void useIdx((e.target as HTMLInputElement).files ?? []));
const drop = $("dropzone");
drop.addEventListener("dragover", (e) => e.preventDefault());
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  if (e.dataTransfer?.files) void useIdx(e.dataTransfer.files);
});
$("idx-clear").addEventListener("click", () => {
  dataChoice = { kind: "embedded", base: new URL("mnist", document.baseURI).href };
  $("idx-status").textContent = "Data: the embedded digits.";
});

// ---- model export and import --------------------------------------------------------------
$("export").addEventListener("click", () => {
  if (!state.model) return;
  const url = URL.createObjectURL(new Blob([state.model as BlobPart], { type: "application/octet-stream" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = "model.safetensors";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
});
$<HTMLInputElement>("import").addEventListener("change", async (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  $("model-status").textContent = `Evaluating ${file.name}...`;
  try {
    if (state.running) throw new Error("a run is training: reset first (the worker evaluates between runs)");
    const m = await (api as Comlink.Remote<TrainApi>).importModel(bytes, file.name, dataChoice, pageOf(values).backend);
    state.model = bytes;
    ($("export") as HTMLButtonElement).disabled = false;
    tryIt.setModel(bytes, file.name);
    $("model-status").textContent = `${file.name}: ${m.sizes.join("-")}, test accuracy ${pct(m.testAccuracy)} on ${m.examples} examples of ${m.source}.`;
    $("model-status").dataset.accuracy = String(m.testAccuracy);
  } catch (err) {
    $("model-status").textContent = `Cannot import ${file.name}: ${(err as Error).message}`;
  }
});

// ---- try it --------------------------------------------------------------------------------
const tryIt = createTryIt({
  pad: $<HTMLCanvasElement>("pad"),
  outputs: $("outputs"),
  status: $("try-status"),
  energy: lineChart($("try-energy"), { title: "energy along the free phase", x: "step", series: ["E(s)"], height: 160 }),
  digits: () => dataChoice,
  sizes: () => {
    try {
      const s = specOf(values);
      return { trainSize: s.trainSize, testSize: s.testSize };
    } catch {
      return { trainSize: null, testSize: null };
    }
  },
});
$("pad-clear").addEventListener("click", () => tryIt.clear());
$("pick").addEventListener("click", () => void tryIt.pick(Number($<HTMLInputElement>("test-index").value)));
$("relax").addEventListener("click", () => void tryIt.relax());

// ---- start ---------------------------------------------------------------------------------
writeControls();
validate();
if (parsed.autostart) void play();
