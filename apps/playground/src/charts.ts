/** The page's charts: thin wrappers over uPlot (lines per x, and bars for the histogram). */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

export interface Chart {
  set(data: readonly (readonly (number | null)[])[]): void;
}

/** A line chart of series over one x axis; `log` puts the y axis on a log scale. */
export function lineChart(el: HTMLElement, options: { title: string; x: string; series: readonly string[]; log?: boolean; width?: number; height?: number; points?: boolean }): Chart {
  const plot = new uPlot(
    {
      title: options.title,
      width: options.width ?? 520,
      height: options.height ?? 200,
      scales: { x: { time: false }, y: options.log ? { distr: 3 } : {} },
      axes: [{ label: options.x }, {}],
      series: [
        { label: options.x },
        ...options.series.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length] as string, width: 2, points: { show: options.points ?? false }, spanGaps: true })),
      ],
    },
    [[], ...options.series.map(() => [])],
    el,
  );
  return { set: (data) => plot.setData(data as uPlot.AlignedData) };
}

/** Stacked bars (inside the bounds, clamped to a bound) over bin centres. */
export function histogramChart(el: HTMLElement, width = 520): Chart {
  const bars = uPlot.paths.bars?.({ size: [0.9, 100] });
  const plot = new uPlot(
    {
      title: "dt: 20,000 draws of the clamped distribution",
      width,
      height: 180,
      scales: { x: { time: false } },
      axes: [{ label: "dt" }, { label: "fraction" }],
      series: [
        { label: "dt" },
        { label: "inside the bounds", stroke: COLORS[0] as string, fill: "#1f77b488", ...(bars ? { paths: bars } : {}), points: { show: false } },
        { label: "clamped to a bound", stroke: COLORS[1] as string, fill: "#d6272888", ...(bars ? { paths: bars } : {}), points: { show: false } },
      ],
    },
    [[], [], []],
    el,
  );
  return { set: (data) => plot.setData(data as uPlot.AlignedData) };
}
