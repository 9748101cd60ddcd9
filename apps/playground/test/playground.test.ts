import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeCheckpoint, type NetworkSnapshot } from "@hts/ep";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPage, launch, missing, needsBrowser, repoDir, serve } from "./browser.js";

// The built page in headless Chromium: it loads cleanly, trains one epoch of the defaults
// on the embedded digits to the test accuracy `hts train` gives in Node (wasm-f32 is
// bit-identical across engines, so equal, not within a tolerance), keeps its settings in
// the URL, exports a checkpoint that `hts eval` reads back with the same accuracy, says
// when it is not cross-origin isolated, and every control has a label and is reachable
// with the keyboard. A screenshot of the trained page is written to HTS_PLAYGROUND_SCREENSHOT
// (default: the temporary folder).

const cli = join(repoDir, "apps", "cli", "dist", "main.js");
const out = mkdtempSync(join(tmpdir(), "hts-playground-"));
const screenshot = process.env.HTS_PLAYGROUND_SCREENSHOT ?? join(out, "playground.png");

interface PageState {
  running: boolean;
  outcome: { status: string; message: string | null; finalTestAccuracy: number | null; epochs: number } | null;
  backend: string | null;
  reason: string | null;
  threads: number;
  epochs: { testAccuracy: number | null }[];
}

let context: BrowserContext | null = null;
let isolated: { server: Server; url: string } | null = null;
let plain: { server: Server; url: string } | null = null;
const consoleErrors: string[] = [];

async function open(url: string): Promise<Page> {
  const page = await (context as BrowserContext).newPage();
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(`${url}: ${m.text()}`);
  });
  page.on("pageerror", (e) => consoleErrors.push(`${url}: ${String(e)}`));
  await page.goto(url);
  return page;
}

async function finished(page: Page, timeout = 540_000): Promise<PageState> {
  await page.waitForFunction("globalThis.__hts?.outcome !== null && globalThis.__hts?.running === false", undefined, { timeout, polling: 500 });
  return (await page.evaluate("globalThis.__hts")) as PageState;
}

beforeAll(async () => {
  if (missing !== null) return;
  await buildPage(join(out, "page"));
  isolated = await serve(join(out, "page"), true);
  plain = await serve(join(out, "page"), false);
  context = await launch(join(out, "profile"));
}, 300_000);

afterAll(async () => {
  await context?.close();
  isolated?.server.close();
  plain?.server.close();
  rmSync(out, { recursive: true, force: true });
});

describe("the playground page in headless Chromium", () => {
  let trained: { state: PageState; shown: string; page: Page } | null = null;

  it("loads with no console error, and draws the dt histogram", async (ctx) => {
    needsBrowser(ctx);
    const page = await open(isolated?.url as string);
    await page.waitForSelector("#histogram canvas");
    expect(await page.textContent("#histogram-note")).toMatch(/lognormal: [\d.]+ % at the lower bound/);
    expect(await page.evaluate("globalThis.crossOriginIsolated")).toBe(true);
    await page.waitForTimeout(500);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it("autostart=1&epochs=1 trains the defaults on the embedded digits to >= 90 % test accuracy", async (ctx) => {
    needsBrowser(ctx);
    const page = await open(`${isolated?.url}?autostart=1&epochs=1`);
    const state = await finished(page);
    expect(state.outcome?.status, state.outcome?.message ?? "").toBe("ok");
    const shown = (await page.textContent('[data-testid="test-accuracy"]')) ?? "";
    const pct = Number(shown.replace("%", "").trim());
    console.log(`page: ${shown} on ${state.backend} (${state.threads} threads); ${state.reason}`);
    expect(pct).toBeGreaterThanOrEqual(90);
    expect(await page.textContent('[data-testid="run-network"]')).toMatch(/^network: 784-500-10, dt lognormal: mean 0\.\d{4}, min/);
    // auto: wasm-f32 here (SwiftShader is not a GPU); gpu-webgl2 on a machine with one.
    expect(["wasm-f32", "gpu-webgl2"]).toContain(state.backend);
    expect(await page.textContent('[data-testid="backend"]')).toContain(state.reason as string);
    // Wait until the views have caught up (the trace after the epoch), then the picture.
    await page.waitForTimeout(1000);
    await page.screenshot({ path: screenshot, fullPage: true });
    trained = { state, shown, page };
    expect(consoleErrors).toEqual([]);
  });

  it("gives the test accuracy of hts train in Node with the same seed and settings (wasm-f32: equal)", async (ctx) => {
    needsBrowser(ctx);
    expect(trained, "the training test ran").not.toBeNull();
    let page = trained as { state: PageState; shown: string };
    if (page.state.backend !== "wasm-f32") {
      // A machine with a GPU: the same run on wasm-f32, asked for by name.
      const p = await open(`${isolated?.url}?autostart=1&epochs=1#backend=wasm`);
      page = { state: await finished(p), shown: (await p.textContent('[data-testid="test-accuracy"]')) ?? "" };
      await p.close();
    }
    const node = JSON.parse(execFileSync(process.execPath, [cli, "train", "--epochs", "1", "--backend", "wasm", "--json"], { encoding: "utf8", maxBuffer: 1 << 26 }).trim().split("\n").pop() as string);
    console.log(`hts train: ${node.finalTestAccuracy} on ${node.config.backendUsed}; page: ${page.state.outcome?.finalTestAccuracy} on ${page.state.backend}`);
    expect(page.state.backend).toBe("wasm-f32");
    expect(page.state.outcome?.finalTestAccuracy).toBe(node.finalTestAccuracy);
    expect(page.shown).toBe(`${(100 * node.finalTestAccuracy).toFixed(2)} %`);
  });

  it("on two wasm threads (Web Workers) gives the weights of one thread, and the accuracy of hts train in Node", async (ctx) => {
    needsBrowser(ctx);
    const settings = "arch=784,64,10&trainSize=2000&testSize=500&t1=40&t2=8&epochs=1";
    const accuracy: Record<number, number | null | undefined> = {};
    const weights: Record<number, NetworkSnapshot> = {};
    for (const threads of [1, 2]) {
      const page = await open(`${isolated?.url}?autostart=1#${settings}&threads=${threads}`);
      const state = await finished(page);
      expect(state.outcome?.status, state.outcome?.message ?? "").toBe("ok");
      expect(state.threads).toBe(threads);
      accuracy[threads] = state.outcome?.finalTestAccuracy;
      // The trained tensors, from the checkpoint the page would export.
      const b64 = (await page.evaluate("(() => { const m = globalThis.__hts.model; let s = ''; for (let i = 0; i < m.length; i += 8192) s += String.fromCharCode(...m.subarray(i, i + 8192)); return btoa(s); })()")) as string;
      weights[threads] = decodeCheckpoint(new Uint8Array(Buffer.from(b64, "base64"))).snapshot;
      await page.close();
    }
    const flags = ["--arch", "784,64,10", "--train-size", "2000", "--test-size", "500", "--t1", "40", "--t2", "8", "--epochs", "1", "--backend", "wasm", "--json"];
    const node = JSON.parse(execFileSync(process.execPath, [cli, "train", ...flags], { encoding: "utf8" }).trim().split("\n").pop() as string);
    console.log(`threads 1: ${accuracy[1]}, threads 2: ${accuracy[2]}, hts train: ${node.finalTestAccuracy}`);
    expect(accuracy[2]).toBe(accuracy[1]);
    expect(weights[1]?.W.map((w) => w.length)).toEqual([784 * 64, 64 * 10]);
    expect(weights[2]?.W).toEqual(weights[1]?.W);
    expect(weights[2]?.b).toEqual(weights[1]?.b);
    expect(accuracy[1]).toBe(node.finalTestAccuracy);
  });

  it("exports model.safetensors, which hts eval reads back with the accuracy the page showed", async (ctx) => {
    needsBrowser(ctx);
    const page = trained?.page as Page;
    const [download] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="export"]')]);
    expect(download.suggestedFilename()).toBe("model.safetensors");
    const file = join(out, "model.safetensors");
    await download.saveAs(file);
    const r = JSON.parse(execFileSync(process.execPath, [cli, "eval", "--model", file, "--backend", "wasm", "--json"], { encoding: "utf8" }).trim().split("\n").pop() as string);
    const shown = trained?.state.outcome?.finalTestAccuracy as number;
    // Trained and evaluated on wasm-f32: equal. (Trained on a GPU, float32 rounding differs from wasm-f32's: within half a point.)
    if (trained?.state.backend === "wasm-f32") expect(r.testAccuracy).toBe(shown);
    else expect(Math.abs(r.testAccuracy - shown)).toBeLessThanOrEqual(0.005);

    // And the page imports a checkpoint of hts train, evaluating it to the CLI's figure.
    const run = join(out, "cli-run");
    execFileSync(process.execPath, [cli, "train", "--epochs", "1", "--arch", "784,64,10", "--cost", "ce", "--train-size", "1000", "--t1", "30", "--t2", "6", "--backend", "wasm", "--out", run], { encoding: "utf8" });
    const cliEval = JSON.parse(execFileSync(process.execPath, [cli, "eval", "--model", join(run, "model.safetensors"), "--train-size", "1000", "--backend", "wasm", "--json"], { encoding: "utf8" }).trim().split("\n").pop() as string);
    await page.setInputFiles('[data-testid="import"]', join(run, "model.safetensors"));
    await page.waitForFunction("document.getElementById('model-status')?.dataset.accuracy !== undefined", undefined, { timeout: 300_000 });
    expect(Number(await page.getAttribute("#model-status", "data-accuracy"))).toBe(cliEval.testAccuracy);
  });

  it("try it: a picked test digit relaxes and gets a prediction", async (ctx) => {
    needsBrowser(ctx);
    const page = trained?.page as Page;
    await page.fill("#test-index", "3");
    await page.click("#pick");
    await page.waitForFunction("document.getElementById('try-status')?.dataset.prediction !== undefined", undefined, { timeout: 300_000 });
    expect(await page.textContent("#try-status")).toMatch(/Prediction: \d \(model: model\.safetensors/);
    // The imported model has a read-out (cost ce): the bars are its class probabilities, summing to 1.
    await page.waitForTimeout(2000);
    const bars = await page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>("#outputs .bar")).map((b) => Number(b.title.split(": ")[1])));
    expect(bars).toHaveLength(10);
    expect(await page.textContent("#try-status")).toContain("bars: the read-out's class probabilities");
    expect(bars.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
    // A stroke drawn with the mouse (a "1"): relaxed when the pointer is lifted.
    await page.click("#pad-clear");
    await page.evaluate(() => delete document.getElementById("try-status")?.dataset.prediction);
    const box = await page.locator("#pad").boundingBox();
    if (!box) throw new Error("no drawing pad");
    await page.mouse.move(box.x + 140, box.y + 40);
    await page.mouse.down();
    for (let y = 40; y <= 240; y += 20) await page.mouse.move(box.x + 140, box.y + y);
    await page.mouse.up();
    await page.waitForFunction("document.getElementById('try-status')?.dataset.prediction !== undefined", undefined, { timeout: 300_000 });
    console.log(`drawn stroke: ${await page.textContent("#try-status")}`);
    await page.close();
  });

  it("keeps every setting in the URL hash: a reload reproduces them; a bad one shows the library's message by its control", async (ctx) => {
    needsBrowser(ctx);
    const page = await open(isolated?.url as string);
    await page.fill('[data-testid="field-arch"]', "784,64,10");
    await page.selectOption('[data-testid="field-dt.dist"]', "gamma");
    await page.fill('[data-testid="field-seed"]', "7");
    await page.fill('[data-testid="field-dt.sd"]', "0.05");
    await page.check('[data-testid="field-twin"]');
    const hash = new URL(page.url()).hash;
    expect(hash).toContain("arch=784,64,10");
    expect(hash).toContain("dt.dist=gamma");
    const values = async (p: Page) => p.evaluate(() => Array.from(document.querySelectorAll<HTMLInputElement>("#settings input, #settings select")).map((e) => [e.name, e.type === "checkbox" ? String(e.checked) : e.value]));
    const before = await values(page);
    const again = await open(page.url());
    expect(await values(again)).toEqual(before);
    // dt.max below dt.min: createRunSpec's own message, next to dt.max.
    await again.fill('[data-testid="field-dt.max"]', "0.0001");
    const err = (await again.textContent('[data-testid="error-dt.max"]')) ?? "";
    expect(err).toMatch(/dt\.max/);
    expect(err).toMatch(/dt\.min/);
    expect(await again.getAttribute('[data-testid="field-dt.max"]', "aria-invalid")).toBe("true");
    // An unsound combination is refused by prepareRun in the worker: its message, by the update rule.
    await again.fill('[data-testid="field-dt.max"]', "0.5");
    await again.selectOption('[data-testid="field-activation"]', "sigmoid");
    await again.click('[data-testid="play"]');
    const refused = await finished(again);
    expect(refused.outcome?.status).toBe("error");
    expect(await again.textContent('[data-testid="error-dynamics"]')).toMatch(/leaky/);
    await page.close();
    await again.close();
  });

  it("without COOP/COEP headers runs wasm-f32 on one thread and says why", async (ctx) => {
    needsBrowser(ctx);
    const page = await open(`${plain?.url}?autostart=1&epochs=1&arch=784,32,10&trainSize=500&testSize=100&t1=20&t2=4`);
    const state = await finished(page);
    expect(state.outcome?.status, state.outcome?.message ?? "").toBe("ok");
    expect(state.threads).toBe(1);
    expect(state.reason).toMatch(/one thread: the page is not cross-origin isolated/);
    await page.close();
  });

  it("one minibatch, pause and play act at the next minibatch (cross-origin isolated)", async (ctx) => {
    needsBrowser(ctx);
    const page = await open(`${isolated?.url}#arch=784,32,10&trainSize=500&testSize=100&t1=20&t2=4&epochs=2`);
    await page.click('[data-testid="step"]');
    await page.waitForFunction("document.getElementById('status')?.textContent?.startsWith('Paused at epoch 1, minibatch 1.')", undefined, { timeout: 300_000 });
    await page.click('[data-testid="step"]');
    await page.waitForFunction("document.getElementById('status')?.textContent?.startsWith('Paused at epoch 1, minibatch 2.')", undefined, { timeout: 300_000 });
    expect(((await page.evaluate("globalThis.__hts")) as PageState).epochs).toEqual([]);
    await page.click('[data-testid="play"]');
    const state = await finished(page);
    expect(state.outcome?.status).toBe("ok");
    expect(state.epochs).toHaveLength(2);
    await page.close();
  });

  it("trains on gpu.js with WebGL2 in the worker when asked (SwiftShader here, a software renderer)", async (ctx) => {
    needsBrowser(ctx);
    const page = await open(`${isolated?.url}?autostart=1#backend=gpu&arch=784,16,10&trainSize=100&testSize=50&t1=10&t2=2&epochs=1`);
    const state = await finished(page);
    expect(state.outcome?.status, state.outcome?.message ?? "").toBe("ok");
    expect(state.backend).toBe("gpu-webgl2");
    expect(state.reason).toMatch(/^gpu: requested; gpu\.js [\d.]+ webgl2 on /);
    console.log(`gpu: ${state.reason}; test accuracy ${state.outcome?.finalTestAccuracy}`);
    await page.close();
  });

  it("trains on a user's own IDX files dropped on the page (one of them gzipped)", async (ctx) => {
    needsBrowser(ctx);
    const { loadEmbedded, writeIdx } = await import("@hts/datasets/node");
    const split = await loadEmbedded({ trainSize: 600, testSize: 200, seed: 3 });
    const bytes = (d: { images: Float32Array }) => Uint8Array.from(d.images, (v) => Math.round(255 * v));
    const files = [
      { name: "train-images-idx3-ubyte.gz", data: writeIdx(bytes(split.train), [600, 28, 28], true) },
      { name: "train-labels-idx1-ubyte", data: writeIdx(split.train.labels, [600]) },
      { name: "t10k-images-idx3-ubyte", data: writeIdx(bytes(split.test), [200, 28, 28]) },
      { name: "t10k-labels-idx1-ubyte", data: writeIdx(split.test.labels, [200]) },
    ].map((f) => ({ name: f.name, data: Buffer.from(f.data).toString("base64") }));
    const page = await open(`${isolated?.url}#arch=784,32,10&t1=20&t2=4&epochs=1`);
    const dataTransfer = await page.evaluateHandle((list) => {
      const dt = new DataTransfer();
      for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0))], f.name));
      return dt;
    }, files);
    await page.dispatchEvent("#dropzone", "drop", { dataTransfer });
    await page.waitForFunction("document.getElementById('idx-status')?.textContent?.startsWith('Data: your IDX files')", undefined, { timeout: 300_000 });
    await page.click('[data-testid="play"]');
    const state = await finished(page);
    expect(state.outcome?.status, state.outcome?.message ?? "").toBe("ok");
    expect(await page.textContent('[data-testid="run-data"]')).toBe("Data: idx train-images-idx3-ubyte.gz, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte: 600 train, 200 test.");
    await page.close();
  });

  it("works with the keyboard: every control is labelled and reached by Tab", async (ctx) => {
    needsBrowser(ctx);
    const page = await open(isolated?.url as string);
    const unlabelled = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLElement>("input, select, button, canvas"))
        .filter((e) => {
          const named = (e as HTMLInputElement).labels?.length || e.getAttribute("aria-label") || (e.tagName === "BUTTON" && e.textContent?.trim()) || e.closest("[role=img][aria-label]");
          // A chart's canvas sits in a labelled role=img container.
          const roled = e.tagName !== "CANVAS" || e.getAttribute("role") === "img" || e.closest("[role=img][aria-label]") !== null;
          return !named || !roled;
        })
        .map((e) => e.outerHTML.slice(0, 80)),
    );
    expect(unlabelled).toEqual([]);
    const controls = await page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>("input, select, button")).filter((e) => !(e as HTMLButtonElement).disabled).map((e) => e.id || (e as HTMLInputElement).name));
    const reached = new Set<string>();
    for (let i = 0; i < controls.length + 5; i++) {
      await page.keyboard.press("Tab");
      reached.add(await page.evaluate(() => document.activeElement?.id || (document.activeElement as HTMLInputElement | null)?.name || ""));
    }
    expect(controls.filter((c) => !reached.has(c))).toEqual([]);
    // Play from the keyboard: focus it and press Enter.
    await page.focus('[data-testid="play"]');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Play");
    await page.close();
  });
});
