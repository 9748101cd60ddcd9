#!/usr/bin/env bash
# CI: the GPU path, on a machine without a GPU. Installs the Debian packages, builds the
# native module gl (headless-gl), prints the renderer strings, and runs the GPU tests under
# Xvfb: the kernels conformance suite on gpu-webgl (Node, headless-gl), the same suite in
# headless Chromium on gpu-webgl2 (WebGL2), the read-back count of a training minibatch,
# and the end-to-end training comparison.
# CI is set, so a test that cannot make a GPU context fails instead of skipping.
# Called from .ci/run before the main test command (which then also finds Xvfb and gl).
set -uo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 CI="${CI:-true}" JOBS="${JOBS:-max}"
xvfb=(xvfb-run -a -s "-screen 0 1280x1024x24")
started=$SECONDS

echo "== GPU: Debian packages (gl build prerequisites, Xvfb, Chromium)"
if ! (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  libxi-dev libglew-dev libglu1-mesa-dev pkg-config xvfb xauth chromium) >/tmp/hts-ci-gpu-apt.log 2>&1; then
  echo "apt-get failed (see /tmp/hts-ci-gpu-apt.log)"
  exit 1
fi

echo "== GPU: gl (headless-gl) native build"
npx -y pnpm@12.4.2 install --frozen-lockfile >/tmp/hts-ci-gpu-install.log 2>&1 || { tail -30 /tmp/hts-ci-gpu-install.log; exit 1; }
bash scripts/gpu-build-gl.sh || exit 1
echo "gl ready after $((SECONDS - started)) s"

echo "== GPU: renderer strings"
npx -y pnpm@12.4.2 exec turbo run build --filter=@hts/cli... --output-logs=errors-only || exit 1
"${xvfb[@]}" node packages/kernels/scripts/gpu-info.mjs || exit 1
chromium --version 2>/dev/null

echo "== GPU: tests under Xvfb (DISPLAY and XAUTHORITY pass through turbo)"
status=0
"${xvfb[@]}" npx -y pnpm@12.4.2 exec turbo run test --filter=@hts/kernels --output-logs=full -- \
  test/conformance.test.ts test/browser.test.ts test/gpu-backend.test.ts || status=1
"${xvfb[@]}" npx -y pnpm@12.4.2 exec turbo run test --filter=@hts/ep --output-logs=full -- test/gpu-readback.test.ts || status=1
"${xvfb[@]}" npx -y pnpm@12.4.2 exec turbo run test --filter=@hts/cli --output-logs=full -- test/gpu-training.test.ts || status=1
echo "== GPU: done in $((SECONDS - started)) s, status $status"
exit $status
