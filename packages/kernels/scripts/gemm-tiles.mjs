#!/usr/bin/env node
// The register-tile sweep behind the dense gemm panels of kernels.wat: for R x V tiles (R rows
// of A, V vectors of 4 columns of C held in registers across the whole k loop), a kernel is
// generated, assembled with wabt and timed on the shapes of EP products (best of repeated
// calls, GFLOP/s). `node scripts/gemm-tiles.mjs [TILES_JSON [SHAPES_JSON]]`, e.g.
// node scripts/gemm-tiles.mjs '[[1,8],[2,4],[4,2]]' '[[64,784,500]]'.
import wabtInit from "wabt";

function tile(R, V, name = `tile_${R}_${V}`) {
  const L = [];
  L.push(`(func (export "${name}") (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $k i32) (param $lda i32) (param $ldb i32) (param $ldc i32) (param $alpha f32) (param $beta f32)`);
  L.push(`(local $i i32) (local $p i32) (local $bp i32) (local $ap i32) (local $cp i32) (local $va v128) (local $vb v128) (local $x v128)`);
  for (let r = 0; r < R; r++) L.push(`(local $s${r} v128)`);
  for (let r = 0; r < R; r++) for (let v = 0; v < V; v++) L.push(`(local $c${r}_${v} v128)`);
  for (let v = 0; v < V; v++) L.push(`(local $b${v} v128)`);
  L.push(`(local.set $va (f32x4.splat (local.get $alpha))) (local.set $vb (f32x4.splat (local.get $beta)))`);
  L.push(`(block $idone (loop $il (br_if $idone (i32.ge_u (local.get $i) (local.get $m)))`);
  for (let r = 0; r < R; r++) for (let v = 0; v < V; v++) L.push(`(local.set $c${r}_${v} (v128.const i32x4 0 0 0 0))`);
  L.push(`(local.set $ap (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda)))) (local.set $bp (local.get $b)) (local.set $p (i32.const 0))`);
  L.push(`(block $pdone (loop $pl (br_if $pdone (i32.ge_u (local.get $p) (local.get $k)))`);
  for (let v = 0; v < V; v++) L.push(`(local.set $b${v} (v128.load offset=${16 * v} (local.get $bp)))`);
  for (let r = 0; r < R; r++) {
    L.push(`(local.set $s${r} (v128.load32_splat ${r === 0 ? "(local.get $ap)" : `(i32.add (local.get $ap) (i32.mul (local.get $lda) (i32.const ${r})))`}))`);
    for (let v = 0; v < V; v++) L.push(`(local.set $c${r}_${v} (f32x4.add (local.get $c${r}_${v}) (f32x4.mul (local.get $s${r}) (local.get $b${v}))))`);
  }
  L.push(`(local.set $bp (i32.add (local.get $bp) (local.get $ldb))) (local.set $ap (i32.add (local.get $ap) (i32.const 4))) (local.set $p (i32.add (local.get $p) (i32.const 1))) (br $pl)))`);
  for (let r = 0; r < R; r++) {
    L.push(`(local.set $cp (i32.add (local.get $c) (i32.mul (i32.add (local.get $i) (i32.const ${r})) (local.get $ldc))))`);
    for (let v = 0; v < V; v++) L.push(`(v128.store offset=${16 * v} (local.get $cp) (f32x4.add (f32x4.mul (local.get $va) (local.get $c${r}_${v})) (f32x4.mul (local.get $vb) (v128.load offset=${16 * v} (local.get $cp)))))`);
  }
  L.push(`(local.set $i (i32.add (local.get $i) (i32.const ${R}))) (br $il))))`);
  return L.join("\n");
}

const variants = JSON.parse(process.argv[2] ?? "[[1,8],[4,2],[4,3],[3,4],[2,6],[2,4],[6,2]]");
const wabt = await wabtInit();
const src = `(module (import "env" "memory" (memory 1 32768)) ${variants.map(([r, v]) => tile(r, v)).join("\n")})`;
const mod = wabt.parseWat("t.wat", src, { simd: true });
const bin = mod.toBinary({}).buffer;
const memory = new WebAssembly.Memory({ initial: 2000, maximum: 32768 });
const inst = await WebAssembly.instantiate(await WebAssembly.compile(bin), { env: { memory } });
const f32 = new Float32Array(memory.buffer);
function run(m, k, n) {
  const A = 1024, B = A + m * k * 4 + 64, C = B + k * n * 4 + 64;
  for (let i = 0; i < m * k; i++) f32[A / 4 + i] = Math.random();
  for (let i = 0; i < k * n; i++) f32[B / 4 + i] = Math.random();
  const res = [];
  for (const [R, V] of variants) {
    const f = inst.exports[`tile_${R}_${V}`];
    const w = 4 * V, mm = m - (m % R);
    const call = () => { for (let j = 0; j + w <= n; j += w) f(A, B + j * 4, C + j * 4, mm, k, k * 4, n * 4, n * 4, 1, 0); };
    let best = Infinity; const t00 = performance.now();
    while (performance.now() - t00 < 700) { const t0 = performance.now(); call(); best = Math.min(best, performance.now() - t0); }
    const flops = 2 * mm * k * (Math.floor(n / w) * w);
    res.push(`${R}x${V}: ${(flops / best / 1e6).toFixed(1)}`);
  }
  console.log(`m ${m} k ${k} n ${n}:`, res.join("  "));
}
for (const [m, k, n] of JSON.parse(process.argv[3] ?? "[[64,784,500],[784,64,500],[256,784,500],[64,1000,1000]]")) run(m, k, n);
