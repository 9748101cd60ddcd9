#!/usr/bin/env bash
# Optional: set up the GPU backend (gpu.js on headless-gl) on Debian or Ubuntu. Run once from
# anywhere in a clone, after `npx -y pnpm@12.4.2 install`:
#
#   bash scripts/gpu-setup.sh            # add --chromium for the browser tests too
#
# 1. installs the Debian packages that the native module gl (headless-gl) compiles against,
#    plus Xvfb (headless-gl needs an X display on Linux);
# 2. builds gl from source with scripts/gpu-build-gl.sh (about 5 minutes on 2 cores; plain
#    installs leave it unbuilt: allowBuilds gl: false in pnpm-workspace.yaml);
# 3. prints the renderer that the GPU backend gets under Xvfb.
# Without this, gl stays unbuilt and createBackend says why it uses a CPU backend.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libxi-dev libglew-dev libglu1-mesa-dev pkg-config xvfb xauth)
[ "${1:-}" = "--chromium" ] && packages+=(chromium)
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "== Debian packages: ${packages[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null

echo "== gl (headless-gl): native build"
[ -d node_modules/.pnpm ] || npx -y pnpm@12.4.2 install --frozen-lockfile
bash scripts/gpu-build-gl.sh
echo "== build @hts/kernels and check the GPU backend under Xvfb"
npx -y pnpm@12.4.2 exec turbo run build --filter=@hts/kernels --output-logs=errors-only
xvfb-run -a -s "-screen 0 1280x1024x24" node packages/kernels/scripts/gpu-info.mjs
