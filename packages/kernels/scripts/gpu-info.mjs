#!/usr/bin/env node
// Prints what the GPU backend would run on here: the gl (headless-gl) build, the X display,
// the WebGL renderer string (Mesa llvmpipe is a CPU emulation; a real GPU names its vendor)
// and whether `createBackend({ prefer: "auto" })` would pick it. Needs the built package
// (dist/). Exit status 0 when a GPU backend could be made, 1 otherwise.
import { createBackend, createGpuBackend } from "../dist/node.js";

const line = (k, v) => console.log(`${k.padEnd(10)} ${v}`);
line("DISPLAY", process.env.DISPLAY ?? "(unset)");
let ok = false;
try {
  const be = await createGpuBackend();
  ok = true;
  line("backend", be.name);
  line("mode", be.mode);
  line("renderer", be.renderer);
  line("software", be.software ? "yes (a CPU emulation of a GPU)" : "no (a hardware GPU)");
  await be.destroy();
} catch (error) {
  line("gpu", `not available: ${error.message}`);
}
const auto = await createBackend();
line("auto", `${auto.backend.name}: ${auto.reason}`);
process.exitCode = ok ? 0 : 1;
