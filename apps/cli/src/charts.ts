/** The charts live in @hts/study; re-exported for the commands that draw them. */
export { binDt, dtHistogramSpec, renderSvg } from "@hts/study";
