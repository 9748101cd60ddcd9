#!/usr/bin/env bash
# The default training run (`hts train`: 784-500-10, 5 epochs, embedded digits) on the GPU
# backend and on the CPU backend, then their final test accuracies side by side, with
# "ok" when they are within 0.5 points. Needs gl built (scripts/gpu-setup.sh) and Xvfb; on a
# software renderer (llvmpipe) the GPU run takes about 15 minutes on two cores.
#
#   bash scripts/gpu-train-check.sh [OUTDIR]      # default OUTDIR: gpu-train-check
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-gpu-train-check}"
xvfb=(xvfb-run -a -s "-screen 0 1280x1024x24")
export TURBO_TELEMETRY_DISABLED=1
npx -y pnpm@12.4.2 exec turbo run build --filter=@hts/cli... --output-logs=errors-only >&2
"${xvfb[@]}" node apps/cli/dist/main.js train --backend gpu --out "$out/gpu" --overwrite
node apps/cli/dist/main.js train --backend wasm --out "$out/cpu" --overwrite
node scripts/epoch-table.mjs "gpu=$out/gpu" "cpu=$out/cpu"
node -e '
const { readFileSync } = require("node:fs");
const last = (d) => JSON.parse(readFileSync(d + "/metrics.jsonl", "utf8").trim().split("\n").pop()).testAccuracy * 100;
const g = last(process.argv[1]), c = last(process.argv[2]), d = Math.abs(g - c);
console.log(`final test accuracy: gpu ${g.toFixed(2)} %, cpu ${c.toFixed(2)} %, difference ${d.toFixed(2)} points (limit 0.5): ${d <= 0.5 ? "ok" : "FAIL"}`);
process.exitCode = d <= 0.5 ? 0 : 1;
' "$out/gpu" "$out/cpu"
