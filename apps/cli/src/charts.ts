/** The charts live in @hts/study; re-exported for the commands that draw them. */
export { binDt, dtHistogramSpec, gradientCheckSpec, renderSvg } from "@hts/study";
