/**
 * Receptive fields: column j of W1 (the weights from the 784 pixels to hidden unit j) drawn
 * as a 28 x 28 tile, blue for negative and red for positive weights (scaled per tile), in a
 * frame whose colour is the unit's dt (blue: the smallest shown, red: the largest).
 */
export function drawFields(canvas: HTMLCanvasElement, W1: Float32Array, dt1: Float32Array, n0: number, units: number): void {
  const side = Math.round(Math.sqrt(n0));
  if (side * side !== n0) return;
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  const perRow = Math.ceil(Math.sqrt(units));
  const cell = Math.floor(canvas.width / perRow);
  const frame = 3;
  const scale = Math.max(1, Math.floor((cell - 2 * frame - 2) / side));
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of dt1) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const tile = ctx.createImageData(side, side);
  const small = document.createElement("canvas");
  small.width = side;
  small.height = side;
  const sctx = small.getContext("2d") as CanvasRenderingContext2D;
  ctx.imageSmoothingEnabled = false;
  for (let j = 0; j < units; j++) {
    let m = 1e-12;
    for (let i = 0; i < n0; i++) m = Math.max(m, Math.abs(W1[j * n0 + i] as number));
    for (let i = 0; i < n0; i++) {
      const w = (W1[j * n0 + i] as number) / m;
      const o = 4 * i;
      tile.data[o] = w > 0 ? 255 : Math.round(255 * (1 + w));
      tile.data[o + 1] = Math.round(255 * (1 - Math.abs(w)));
      tile.data[o + 2] = w < 0 ? 255 : Math.round(255 * (1 - w));
      tile.data[o + 3] = 255;
    }
    sctx.putImageData(tile, 0, 0);
    const x = (j % perRow) * cell;
    const y = Math.floor(j / perRow) * cell;
    const t = hi > lo ? ((dt1[j] as number) - lo) / (hi - lo) : 0.5;
    ctx.fillStyle = `hsl(${Math.round(240 * (1 - t))} 80% 45%)`;
    ctx.fillRect(x + 1, y + 1, side * scale + 2 * frame, side * scale + 2 * frame);
    ctx.drawImage(small, x + 1 + frame, y + 1 + frame, side * scale, side * scale);
  }
}
