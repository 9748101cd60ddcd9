#!/usr/bin/env bash
# The GPU backend on a machine with an NVIDIA GPU. From the repository root of a copy of the
# working tree, on Debian or Ubuntu with Node (>= 20.19) and npm, as root or with sudo:
#
#   bash scripts/gpu-check.sh          # about 5-8 minutes; the log goes to $OUT/gpu-check.log
#
# Installs what it needs (Debian packages, the workspace, the native module gl), then, for
# each GL driver that headless-gl can reach under Xvfb (Mesa, whose renderer is llvmpipe, a
# CPU emulation; and the NVIDIA driver through GLVND, __GLX_VENDOR_LIBRARY_NAME=nvidia),
# prints the renderer string, runs the kernels conformance suite on the gpu backend, the
# GPU bench and one epoch of training. Then the same conformance suite in headless Chromium
# (WebGL2), which needs no X display, with ANGLE on Vulkan and on EGL. A renderer string
# naming NVIDIA is a real GPU; "llvmpipe" or "SwiftShader" is not. Needs the npm registry
# and Debian's (or Ubuntu's) package archive.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-.}"
mkdir -p "$out"
log="$out/gpu-check.log"
exec > >(tee "$log") 2>&1
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 JOBS="${JOBS:-max}" CI=true
started=$SECONDS
step() { printf '\n== %s (%d s)\n' "$*" "$((SECONDS - started))"; }
xvfb=(xvfb-run -a -s "-screen 0 1280x1024x24")
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

step "machine"
uname -srm
node --version
nvidia-smi -L 2>/dev/null || echo "nvidia-smi: not found (no NVIDIA driver visible)"

step "Debian packages"
$sudo apt-get update -qq >/dev/null 2>&1
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
  libxi-dev libglew-dev libglu1-mesa-dev pkg-config xvfb xauth mesa-utils libvulkan1 >/tmp/hts-gpu-check-apt.log 2>&1 ||
  { tail -20 /tmp/hts-gpu-check-apt.log; echo "apt-get failed"; exit 1; }
# Debian's chromium (Ubuntu's package is a snap stub): only for the browser check at the end.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >>/tmp/hts-gpu-check-apt.log 2>&1 ||
  echo "chromium not installed: the browser check is skipped"

step "workspace install"
npx -y pnpm@12.4.2 install --frozen-lockfile >/tmp/hts-gpu-check-install.log 2>&1 ||
  { tail -30 /tmp/hts-gpu-check-install.log; echo "install failed"; exit 1; }

step "gl (headless-gl) build"
bash scripts/gpu-build-gl.sh || exit 1

step "build"
npx -y pnpm@12.4.2 exec turbo run build --filter=@hts/cli... --filter=@hts/bench... --output-logs=errors-only || exit 1

status=0
for driver in nvidia mesa; do
  if [ "$driver" = nvidia ]; then
    env=(env __GLX_VENDOR_LIBRARY_NAME=nvidia)
  else
    env=(env -u __GLX_VENDOR_LIBRARY_NAME)
  fi
  step "renderer, $driver driver"
  "${xvfb[@]}" "${env[@]}" glxinfo -B 2>&1 | grep -E "OpenGL (vendor|renderer|version)|direct rendering" || echo "glxinfo: no GLX context"
  if ! "${xvfb[@]}" "${env[@]}" node packages/kernels/scripts/gpu-info.mjs; then
    echo "no GPU backend with the $driver driver"
    [ "$driver" = mesa ] && status=1
    continue
  fi

  step "conformance suite on the gpu backend, $driver driver"
  (cd packages/kernels && "${xvfb[@]}" "${env[@]}" ../../node_modules/.bin/vitest run \
    test/conformance.test.ts test/gpu-backend.test.ts --reporter=default) || status=1

  step "GPU bench, $driver driver: kernels (784-500-10, batch 20 and 200)"
  "${xvfb[@]}" "${env[@]}" node packages/kernels/scripts/gpu-bench.mjs --batch 20 --backends gpu,wasm,cpu || status=1
  "${xvfb[@]}" "${env[@]}" node packages/kernels/scripts/gpu-bench.mjs --batch 200 --reps 10 --backends gpu,wasm || status=1

  step "GPU bench, $driver driver: pnpm bench --backend gpu"
  if [ "$driver" = nvidia ]; then bench=(--repeats 3); else bench=(--arch 784,500,10 --batch 20 --repeats 3); fi
  "${xvfb[@]}" "${env[@]}" node tools/bench/dist/bench.js --backend gpu "${bench[@]}" || status=1

  step "training, $driver driver: hts train --backend gpu, 1 epoch on 2,000 digits, 784-500-10"
  "${xvfb[@]}" "${env[@]}" node apps/cli/dist/main.js train --backend gpu --train-size 2000 --test-size 1000 \
    --epochs 1 --seed 11 --out "$(mktemp -d)/run" --json || status=1
done

for flags in "--use-angle=vulkan --enable-features=Vulkan --ignore-gpu-blocklist" "--use-angle=gl-egl --ignore-gpu-blocklist"; do
  step "conformance suite in headless Chromium (WebGL2), flags: $flags"
  command -v chromium >/dev/null || { echo "no chromium"; break; }
  (cd packages/kernels && HTS_CHROMIUM_FLAGS="$flags" ../../node_modules/.bin/vitest run test/browser.test.ts --reporter=default) ||
    echo "(no WebGL2 GPU backend in Chromium with these flags)"
done

step "done, status $status"
exit $status
