// The statistics shared by the study's scripts (study-stats.mjs, study-report.mjs).

/** Mean of an array of numbers. */
export const mean = (v) => v.reduce((s, x) => s + x, 0) / v.length;
/** Sample standard deviation (n - 1). */
export const sd = (v) => {
  const m = mean(v);
  return Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1));
};

/** Holm's step-down adjustment of p-values (in their order). */
export function holm(ps) {
  const order = ps.map((p, i) => [p, i]).sort((a, b) => a[0] - b[0]);
  const out = new Array(ps.length);
  let running = 0;
  order.forEach(([p, i], k) => {
    running = Math.max(running, Math.min(1, (ps.length - k) * p));
    out[i] = running;
  });
  return out;
}

/** log C(n, k). */
function logChoose(n, k) {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/** One-sided Fisher exact p: the chance of at least `x1` failures in arm 1 given the margins. */
export function fisherGreater(x1, n1, x2, n2) {
  const K = x1 + x2;
  const total = logChoose(n1 + n2, K);
  let p = 0;
  for (let k = x1; k <= Math.min(K, n1); k++) p += Math.exp(logChoose(n1, k) + logChoose(n2, K - k) - total);
  return Math.min(1, p);
}
