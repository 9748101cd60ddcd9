#!/usr/bin/env bash
# Builds the optional native module gl (headless-gl), through which gpu.js reaches a GPU in
# Node. pnpm leaves it unbuilt (allowBuilds: gl: false in pnpm-workspace.yaml), so this runs
# its build on purpose: node-gyp in gl's own folder, against Node's installed headers
# (npm_config_nodedir; node-gyp would otherwise try to download them). Needs the Debian
# packages that scripts/gpu-setup.sh installs. About 5 minutes on 2 cores (JOBS=max uses
# them all). Does nothing when gl already loads, unless given --force.
set -euo pipefail
cd "$(dirname "$0")/.."

gl_dir="$(node -e '
  const { createRequire } = require("module");
  const fromGpu = createRequire(require.resolve("gpu.js", { paths: ["packages/kernels"] }));
  console.log(require("path").dirname(fromGpu.resolve("gl/package.json")));')"
if [ "${1:-}" != "--force" ] && node -e "require('$gl_dir')" 2>/dev/null; then
  echo "gl: already built in $gl_dir"
  exit 0
fi
prefix="$(node -p 'require("path").resolve(process.execPath, "..", "..")')"
if [ -f "$prefix/include/node/node.h" ]; then nodedir="$prefix"; else nodedir=/usr; fi
nodedir="${npm_config_nodedir:-$nodedir}"
gyp="$(node -p "require('module').createRequire('$gl_dir/').resolve('node-gyp/bin/node-gyp.js')")"
# ANGLE's gyp files call a plain `python`, which a machine may lack (Debian has python3 only,
# and a pyenv shim may point at no interpreter): offer python3 under that name.
pybin="$(mktemp -d)"
ln -s "$(python3 -c "import sys; print(sys.executable)")" "$pybin/python"
export PATH="$pybin:$PATH"
echo "gl: building in $gl_dir (node headers from $nodedir, JOBS=${JOBS:-max})"
started=$SECONDS
(cd "$gl_dir" && JOBS="${JOBS:-max}" npm_config_nodedir="$nodedir" node "$gyp" rebuild --nodedir="$nodedir" >/tmp/hts-gl-build.log 2>&1) || {
  tail -40 /tmp/hts-gl-build.log
  echo "gl: build failed (full log: /tmp/hts-gl-build.log); the Debian packages: libxi-dev libglew-dev libglu1-mesa-dev pkg-config"
  exit 1
}
node -e "require('$gl_dir')"
echo "gl: built in $((SECONDS - started)) s"
