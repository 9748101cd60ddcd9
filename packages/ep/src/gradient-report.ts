import type { GradientCheckReport } from "./gradient-check.js";

function sci(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return String(x);
  return x === 0 ? "0" : x.toExponential(digits);
}

function cos(x: number): string {
  return Number.isFinite(x) ? x.toFixed(8) : String(x);
}

function table(header: readonly string[], rows: readonly (readonly string[])[], widths: readonly number[]): string {
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 11)).join(" ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/**
 * A gradient check's report as text, the tables `hts check-gradient` prints: the setting,
 * (a) the EP estimate against finite differences per beta and tensor (cosine, relative
 * error), (b) the GDU curves against BPTT per step, and the targets. `context` describes how
 * the problem was made (the report does not hold it).
 */
export function formatGradientReport(r: GradientCheckReport, context: { arch: readonly number[]; seed: number; dt: string; dtValues: readonly number[]; weightScale: number; bias: number }): string {
  const c = r.combination;
  const fd = r.finiteDifference;
  const out: string[] = [];
  const dtMean = context.dtValues.reduce((s, v) => s + v, 0) / context.dtValues.length;
  out.push(`hts check-gradient: ${c.energy} energy + ${c.activation} + ${c.dynamics} rule + ${c.cost} cost`);
  out.push(
    `network: ${context.arch.join("-")}${c.cost === "ce" ? ` (relaxed ${r.sizes.join("-")}, read-out to ${r.classes} classes)` : ""}, ${r.examples} examples, seed ${context.seed}, float64 reference backend; weights ${context.weightScale} x Glorot, biases ${context.bias}`,
  );
  out.push(`dt ${context.dt}: per neuron mean ${dtMean.toFixed(4)}, min ${Math.min(...context.dtValues).toFixed(4)}, max ${Math.max(...context.dtValues).toFixed(4)}`);
  out.push(`free phase: ${fd.freeSteps} steps to dt-free residual ${sci(fd.freeResidual)} (tolerance ${r.tolerance}); nearest free state to a bound of rho's range: ${fd.boundMargin.toFixed(4)}`);
  out.push(
    `finite differences: central, h = ${fd.step}, L(theta) = ${fd.loss.toPrecision(8)}; ${fd.relaxations} relaxations from the free fixed point, at most ${fd.maxSteps} steps, residual <= ${sci(fd.maxResidual)}`,
  );
  out.push("");
  out.push(`(a) EP estimate (trainer.estimate; T1 = ${r.t1}, T2 = steps to convergence) vs the finite-difference gradient of L(theta) = C(s*(theta))`);
  const names = r.ep[0]?.layers.map((l) => l.layer) ?? [];
  const widths = [11, 7, 7, ...names.map(() => 11)];
  const head = ["nudge", "beta", "T2", ...names];
  out.push("cosine similarity");
  out.push(table(head, r.ep.map((row) => [row.nudge, String(row.beta), String(row.t2), ...row.layers.map((l) => cos(l.cosine))]), widths));
  out.push("relative error ||g_EP - g_FD|| / ||g_FD||");
  out.push(table(head, r.ep.map((row) => [row.nudge, String(row.beta), String(row.t2), ...row.layers.map((l) => sci(l.relError))]), widths));
  const g = r.gdu;
  if (g) {
    out.push("");
    out.push(`(b) GDU (Ernoult et al. 2019): cumulative EP updates of the first k nudged steps (${g.nudge}, beta ${g.beta}) vs BPTT through the last k of T = ${g.freeSteps} free steps`);
    out.push("relative error ||g_EP(k) - g_BPTT(k)|| / ||g_BPTT(k)||");
    const gw = [5, ...g.layers.map(() => 10)];
    const rows = Array.from({ length: g.steps }, (_, k) => [String(k + 1), ...g.layers.map((l) => sci(l.relError[k] as number))]);
    rows.push(["max", ...g.layers.map((l) => sci(l.max))]);
    out.push(table(["k", ...g.layers.map((l) => l.layer)], rows, gw));
    if (c.cost === "ce") {
      out.push("(Wout, bout are left out: the cost reads them directly at s_T, not through time; part (a) checks them.)");
    }
    out.push(
      `consistency: hand-written forward pass vs the library's free phase, max |diff| ${sci(g.forwardMismatch)}; trainer.estimate with T2 = ${g.steps} vs the EP curve at k = ${g.steps}, relative ${sci(g.estimateMismatch)}`,
    );
  }
  const t = r.targets;
  out.push("");
  out.push("targets:");
  out.push(`  symmetric beta ${t.beta}: cosine >= ${t.minCosine} for every tensor: ${t.cosinePassed ? "ok" : "FAILED"} (lowest ${cos(t.cosine)}, ${t.cosineLayer}; 1 - cosine = ${sci(1 - t.cosine)})`);
  if (t.gduPassed !== null) out.push(`  GDU: relative error <= ${t.gduTolerance} at every k: ${t.gduPassed ? "ok" : "FAILED"} (max ${sci(t.gduMax as number)})`);
  out.push(`  every relaxation converged (residual < ${r.tolerance}): ${t.converged ? "ok" : "FAILED"}`);
  return `${out.join("\n")}\n`;
}
