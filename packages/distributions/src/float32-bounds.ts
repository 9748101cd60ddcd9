const view = new DataView(new ArrayBuffer(4));

/** The next float32 above a positive float32 `f` (bit increment). */
function nextUp(f: number): number {
  view.setFloat32(0, f);
  view.setUint32(0, view.getUint32(0) + 1);
  return view.getFloat32(0);
}

/** The next float32 below a positive float32 `f` (bit decrement). */
function nextDown(f: number): number {
  view.setFloat32(0, f);
  view.setUint32(0, view.getUint32(0) - 1);
  return view.getFloat32(0);
}

/**
 * The float32 interval inside [min, max] (0 < min < max): the smallest float32 >= min
 * and the largest float32 <= max. Empty (`low > high`) when no float32 lies in between.
 */
export function float32Inside(min: number, max: number): { low: number; high: number } {
  let low = Math.fround(min);
  if (low < min) low = nextUp(low);
  let high = Math.fround(max);
  if (high > max) high = nextDown(high);
  return { low, high };
}
