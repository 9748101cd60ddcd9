import { createRng, sampleLayers, summarize } from "@hts/distributions";
import { choice, formatHelp, int, numList, type OptionTable, parseCommand, str } from "./args.js";
import { binDt, dtHistogramSpec, renderSvg } from "./charts.js";
import { type Io, writeFileAtomic } from "./io.js";
import { DT_OPTIONS, dtOfFlags } from "./options.js";
import { UsageError } from "./usage-error.js";

const SAMPLE_OPTIONS: OptionTable = {
  ...DT_OPTIONS,
  count: { type: "string", value: "N", default: "10000", help: "Number of dt values to draw (one vector of N neurons)." },
  arch: { type: "string", value: "SIZES", help: "Draw per layer as hts train does for these layer sizes (layers 1..L), instead of --count." },
  seed: { type: "string", value: "N", default: "0", help: "Seed (hts train draws dt from a stream of its --seed, so values differ from this)." },
  format: { type: "string", value: "FMT", default: "summary", help: "summary (statistics only), json or csv (the values too)." },
  output: { type: "string", value: "FILE", help: "Write the values (json or csv) to FILE instead of stdout." },
  plot: { type: "string", value: "FILE.svg", help: "Also draw the histogram of the drawn values over [--dt-min, --dt-max] to FILE.svg (SVG)." },
};

const SUMMARY = `Draw per-neuron time steps dt from a distribution, as a network is initialised, and
report the mean, sd, range and the mass the clamp piles up at each bound.`;

/** `hts sample`. */
export async function sampleCommand(argv: readonly string[], io: Io): Promise<number> {
  const a = parseCommand("sample", argv, SAMPLE_OPTIONS);
  if (a.help) {
    io.out(formatHelp("sample", SUMMARY, SAMPLE_OPTIONS));
    return 0;
  }
  const { dist, dt } = dtOfFlags(a);
  const { min, max } = dt;
  const format = choice(a, "format", ["summary", "json", "csv"]);
  const arch = numList(a, "arch", (n) => Number.isInteger(n) && n >= 1, "positive integers (layer sizes)");
  const sizes = arch ? arch.slice(1) : [int(a, "count", 1, 100_000_000) as number];
  if (sizes.length === 0) throw new UsageError("arch", "--arch: expected at least two layer sizes");
  const rng = createRng(int(a, "seed", 0, 0xffffffff) as number);
  const layers = sampleLayers(dist, rng, sizes);
  const all = new Float32Array(layers.reduce((n, v) => n + v.length, 0));
  let o = 0;
  for (const v of layers) {
    all.set(v, o);
    o += v.length;
  }
  const s = summarize(all, { min, max });
  const summary = { distribution: dist.toJSON(), ...s };
  const human =
    `${dist.name}: ${s.count} values, mean ${s.mean.toFixed(4)}, sd ${s.sd.toFixed(4)}, min ${s.min.toPrecision(4)}, max ${s.max.toPrecision(4)}\n` +
    `clamped at ${min}: ${(100 * s.fractionAtMin).toFixed(2)}% (${s.atMin}), at ${max}: ${(100 * s.fractionAtMax).toFixed(2)}% (${s.atMax})\n`;
  const output = str(a, "output");
  const plot = str(a, "plot");
  if (plot !== undefined) {
    if (!/\.svg$/i.test(plot)) throw new UsageError("plot", `--plot: expected a file name ending in .svg, got ${JSON.stringify(plot)}`);
    const svg = await renderSvg(dtHistogramSpec([binDt(dist.name, all, min, max)], `Clamped per-neuron dt, ${s.count.toLocaleString("en-US")} draws`));
    writeFileAtomic(plot, svg);
  }
  if (format === "summary") {
    io.out(human);
    return 0;
  }
  const text =
    format === "json"
      ? `${JSON.stringify({ ...summary, layers: layers.map((v) => Array.from(v)) })}\n`
      : `layer,neuron,dt\n${layers.map((v, l) => Array.from(v, (x, i) => `${l + 1},${i},${x}`).join("\n")).join("\n")}\n`;
  if (output) {
    writeFileAtomic(output, text);
    io.out(human);
  } else {
    io.err(human);
    io.out(text);
  }
  return 0;
}
