/**
 * "Try it": a digit drawn on the pad (mouse, pen or touch, through pointer events) or a test
 * digit, relaxed by the current model (the checkpoint bytes the worker sent, or an imported
 * one) with `createEvaluator` of `@hts/ep` on this thread; the output units and the energy
 * are then animated step by step.
 */
import { applyInputTransform, checkInputTransform, type Dataset, type DataSplit, fetchEmbedded, idxSplitFromBytes } from "@hts/datasets";
import { createCost, createEnergy } from "@hts/energy";
import { createEvaluator, decodeCheckpoint, networkFromSnapshot } from "@hts/ep";
import { type Backend, createBackend } from "@hts/kernels";
import type { Chart } from "./charts.js";
import type { DataChoice } from "./protocol.js";

const SIDE = 28;

export interface TryItOptions {
  readonly pad: HTMLCanvasElement;
  readonly outputs: HTMLElement;
  readonly status: HTMLElement;
  readonly energy: Chart;
  readonly digits: () => DataChoice;
  readonly sizes: () => { trainSize: number | null; testSize: number | null };
}

export interface TryIt {
  setModel(bytes: Uint8Array, name: string): void;
  clear(): void;
  pick(index: number): Promise<void>;
  relax(): Promise<number | null>;
}

/** The drawing, centred like MNIST: its bounding box scaled into 20 x 20, in the middle of 28 x 28. */
function digitOfPad(pad: HTMLCanvasElement): Float32Array | null {
  const ctx = pad.getContext("2d") as CanvasRenderingContext2D;
  const { width, height } = pad;
  const img = ctx.getImageData(0, 0, width, height).data;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if ((img[4 * (y * width + x) + 3] as number) > 0) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  const box = Math.max(x1 - x0 + 1, y1 - y0 + 1);
  const small = document.createElement("canvas");
  small.width = SIDE;
  small.height = SIDE;
  const s = small.getContext("2d") as CanvasRenderingContext2D;
  const size = (20 * Math.max(x1 - x0 + 1, 1)) / box;
  const sizeY = (20 * Math.max(y1 - y0 + 1, 1)) / box;
  s.drawImage(pad, x0, y0, x1 - x0 + 1, y1 - y0 + 1, (SIDE - size) / 2, (SIDE - sizeY) / 2, size, sizeY);
  const d = s.getImageData(0, 0, SIDE, SIDE).data;
  const out = new Float32Array(SIDE * SIDE);
  for (let i = 0; i < out.length; i++) out[i] = (d[4 * i + 3] as number) / 255;
  return out;
}

/**
 * With a read-out (cost ce) the output units are not relaxed: the class probabilities at a
 * step are softmax(rho(s_L) W_out + b_out), shown in their place.
 */
function readoutScores(top: Float64Array, r: { readonly W: Float32Array; readonly b: Float32Array; readonly classes: number }, activation: string): Float64Array {
  const rho = activation === "sigmoid" ? (x: number) => 1 / (1 + Math.exp(-x)) : activation === "tanh" ? Math.tanh : (x: number) => Math.min(1, Math.max(0, x));
  const z = Float64Array.from(r.b);
  for (let i = 0; i < top.length; i++) {
    const a = rho(top[i] as number);
    if (a !== 0) for (let c = 0; c < r.classes; c++) z[c] = (z[c] as number) + a * (r.W[i * r.classes + c] as number);
  }
  const m = Math.max(...z);
  let sum = 0;
  for (let c = 0; c < z.length; c++) {
    z[c] = Math.exp((z[c] as number) - m);
    sum += z[c] as number;
  }
  return z.map((v) => v / sum);
}

export function createTryIt(o: TryItOptions): TryIt {
  const ctx = o.pad.getContext("2d") as CanvasRenderingContext2D;
  let model: { bytes: Uint8Array; name: string } | null = null;
  let input: Float32Array | null = null;
  let backend: Promise<Backend> | null = null;
  let splitCache: { key: string; split: Promise<DataSplit> } | null = null;
  let drawing = false;

  // The output units: ten bars with their labels.
  const bars = Array.from({ length: 10 }, (_, c) => {
    const wrap = document.createElement("div");
    wrap.className = "unit";
    const bar = document.createElement("div");
    bar.className = "bar";
    const label = document.createElement("span");
    label.textContent = String(c);
    wrap.append(bar, label);
    o.outputs.append(wrap);
    return bar;
  });

  const clear = () => {
    ctx.clearRect(0, 0, o.pad.width, o.pad.height);
    input = null;
  };
  const at = (e: PointerEvent) => {
    const r = o.pad.getBoundingClientRect();
    return [((e.clientX - r.left) * o.pad.width) / r.width, ((e.clientY - r.top) * o.pad.height) / r.height] as const;
  };
  o.pad.style.touchAction = "none";
  o.pad.addEventListener("pointerdown", (e) => {
    drawing = true;
    o.pad.setPointerCapture(e.pointerId);
    const [x, y] = at(e);
    ctx.lineWidth = 22;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#000";
    ctx.beginPath();
    ctx.moveTo(x, y);
    input = null;
  });
  o.pad.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    const [x, y] = at(e);
    ctx.lineTo(x, y);
    ctx.stroke();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    void relax();
  };
  o.pad.addEventListener("pointerup", end);
  o.pad.addEventListener("pointercancel", end);

  async function split(): Promise<DataSplit> {
    const choice = o.digits();
    const { trainSize, testSize } = o.sizes();
    const key = `${choice.kind === "embedded" ? choice.base : choice.name}|${trainSize}|${testSize}`;
    if (splitCache?.key !== key) {
      const sizes = { ...(trainSize !== null ? { trainSize } : {}), ...(testSize !== null ? { testSize } : {}) };
      splitCache = { key, split: choice.kind === "embedded" ? fetchEmbedded(choice.base, sizes) : idxSplitFromBytes(choice.files, sizes) };
    }
    return splitCache.split;
  }

  async function pick(index: number): Promise<void> {
    const { test } = await split();
    if (!Number.isInteger(index) || index < 0 || index >= test.count) {
      o.status.textContent = `Test digit number must be an integer in [0, ${test.count - 1}], got ${index}`;
      return;
    }
    input = test.images.slice(index * test.dim, (index + 1) * test.dim);
    const img = ctx.createImageData(SIDE, SIDE);
    for (let i = 0; i < input.length; i++) {
      img.data[4 * i + 3] = Math.round(255 * Math.min(1, Math.max(0, input[i] as number)));
    }
    const small = document.createElement("canvas");
    small.width = SIDE;
    small.height = SIDE;
    (small.getContext("2d") as CanvasRenderingContext2D).putImageData(img, 0, 0);
    clear();
    input = test.images.slice(index * test.dim, (index + 1) * test.dim);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(small, 0, 0, o.pad.width, o.pad.height);
    o.status.textContent = `Test digit ${index}: labelled ${test.labels[index]}.`;
    await relax();
  }

  async function relax(): Promise<number | null> {
    if (!model) {
      o.status.textContent = "Train (one epoch is enough) or import a model first.";
      return null;
    }
    const x = input ?? digitOfPad(o.pad);
    if (!x) {
      o.status.textContent = "Draw a digit or pick a test digit first.";
      return null;
    }
    const ck = decodeCheckpoint(model.bytes, model.name);
    const rec = (ck.config ?? {}) as Record<string, unknown>;
    const str = (k: string, d: string) => (typeof rec[k] === "string" ? (rec[k] as string) : d);
    backend ??= createBackend({ prefer: "wasm" }).then((c) => c.backend, async () => (await createBackend({ prefer: "cpu" })).backend);
    const network = networkFromSnapshot(await backend, ck.snapshot);
    const transform = checkInputTransform(rec.inputTransform ?? { mode: "raw", mean: [], sd: [], scale: 1 }, x.length);
    const one: Dataset = { images: x, labels: new Uint8Array(1), indices: new Uint32Array(1), count: 1, dim: x.length, rows: SIDE, cols: SIDE, classes: 10 };
    const xt = applyInputTransform(one, transform).images;
    const frames: Float64Array[] = [];
    const readout = ck.snapshot.readout ?? null;
    const energies: number[] = [];
    const evaluator = createEvaluator({
      network,
      energy: createEnergy(str("energy", "hopfield"), str("activation", "hard-sigmoid") as "hard-sigmoid"),
      cost: createCost(str("cost", "mse")),
      config: { t1: typeof rec.t1 === "number" ? rec.t1 : 100, dynamics: str("dynamics", "leaky") as "leaky", order: str("order", "sync") as "sync" },
      onStep: (s) => {
        const st = s.state();
        const top = st[st.length - 1] as Float64Array;
        frames.push(readout ? readoutScores(top, readout, str("activation", "hard-sigmoid")) : top);
        energies.push(s.energy());
      },
    });
    const [prediction] = evaluator.predict(xt, 1);
    o.status.textContent = `Prediction: ${prediction} (model: ${model.name}; ${frames.length} free steps${readout ? "; bars: the read-out's class probabilities" : "; bars: the output units"}).`;
    o.status.dataset.prediction = String(prediction);
    const steps = energies.map((_, i) => i + 1);
    // Animate: one step per frame.
    let i = 0;
    const show = () => {
      const f = frames[i] as Float64Array;
      for (let c = 0; c < bars.length; c++) {
        const v = f[c] ?? 0;
        (bars[c] as HTMLElement).style.height = `${Math.round(100 * Math.min(1, Math.max(0, v)))}px`;
        (bars[c] as HTMLElement).title = `unit ${c}: ${v.toFixed(3)}`;
        (bars[c] as HTMLElement).classList.toggle("top", c === prediction);
      }
      o.energy.set([steps.slice(0, i + 1), energies.slice(0, i + 1)]);
      i++;
      if (i < frames.length) requestAnimationFrame(show);
    };
    if (frames.length) requestAnimationFrame(show);
    return prediction ?? null;
  }

  return {
    setModel(bytes, name) {
      model = { bytes, name };
      o.status.textContent = `Model: ${name}. Draw a digit or pick a test digit.`;
    },
    clear,
    pick,
    relax,
  };
}
