;; Float32 kernels of the `wasm-f32` backend, WebAssembly SIMD128 (f32x4).
;;
;; All pointers are byte offsets into the one imported linear memory; matrices are dense
;; row-major float32. Every allocation made by the backend is 16-byte aligned and followed
;; by at least 16 spare bytes, so a vector load may read up to 3 floats past the end of a
;; row (the extra lanes are computed and discarded, never stored).
;;
;; Clipping uses f32x4.pmin/pmax (one x86 instruction each; f32x4.min/max take several to
;; order -0 and +0): pmax(x, lo) is (x < lo ? lo : x), so NaN passes through, as on the CPU.
;;
;; The build (scripts/build-wasm.mjs) assembles this file twice: as it is, and with the
;; memory import marked `shared` (for worker threads on a SharedArrayBuffer).
(module
  (import "env" "memory" (memory 1 32768))

  ;; ------------------------------------------------------------------ element-wise

  ;; o[i] = alpha a[i] + beta b[i]; o may alias a or b.
  (func (export "axpby") (param $alpha f32) (param $a i32) (param $beta f32) (param $b i32) (param $o i32) (param $n i32)
    (local $va v128) (local $vb v128) (local $vend i32) (local $end i32)
    (local.set $va (f32x4.splat (local.get $alpha)))
    (local.set $vb (f32x4.splat (local.get $beta)))
    (local.set $vend (i32.add (local.get $o) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $end (i32.add (local.get $o) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $v
        (br_if $done (i32.ge_u (local.get $o) (local.get $vend)))
        (v128.store (local.get $o)
          (f32x4.add (f32x4.mul (local.get $va) (v128.load (local.get $a)))
                     (f32x4.mul (local.get $vb) (v128.load (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $v)))
    (block $done
      (loop $s
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (f32.store (local.get $o)
          (f32.add (f32.mul (local.get $alpha) (f32.load (local.get $a)))
                   (f32.mul (local.get $beta) (f32.load (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $s))))

  ;; o[i] = a[i] b[i]
  (func (export "mul") (param $a i32) (param $b i32) (param $o i32) (param $n i32)
    (local $vend i32) (local $end i32)
    (local.set $vend (i32.add (local.get $o) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $end (i32.add (local.get $o) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $v
        (br_if $done (i32.ge_u (local.get $o) (local.get $vend)))
        (v128.store (local.get $o) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $v)))
    (block $done
      (loop $s
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (f32.store (local.get $o) (f32.mul (f32.load (local.get $a)) (f32.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $s))))

  ;; exp(x) on four lanes (Cephes expf: x = n ln2 + r, a degree-6 polynomial in r, times 2^n);
  ;; relative error about 2e-7. Inputs are clamped to [-87.3, 88.3]; NaN stays NaN.
  (func $exp4 (param $x v128) (result v128)
    (local $fx v128) (local $z v128) (local $y v128)
    (local.set $x (f32x4.pmin (f32x4.pmax (local.get $x) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3))
                             (v128.const f32x4 88.3 88.3 88.3 88.3)))
    (local.set $fx (f32x4.floor (f32x4.add (f32x4.mul (local.get $x) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))
                                           (v128.const f32x4 0.5 0.5 0.5 0.5))))
    (local.set $x (f32x4.sub (local.get $x) (f32x4.mul (local.get $fx) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
    (local.set $x (f32x4.sub (local.get $x) (f32x4.mul (local.get $fx) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $z (f32x4.mul (local.get $x) (local.get $x)))
    (local.set $y (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $y (f32x4.add (f32x4.add (f32x4.mul (local.get $y) (local.get $z)) (local.get $x)) (v128.const f32x4 1 1 1 1)))
    ;; 2^n: (n + 127) << 23 (n is in [-126, 128); 128 gives +Infinity bits, as exp overflows)
    (f32x4.mul (local.get $y)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $fx)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))

  ;; rho(x) (kind 0: hard sigmoid, 1: sigmoid 1/(1+exp(-4(x-1/2))), 2: tanh) on four lanes.
  (func $act4 (param $kind i32) (param $x v128) (result v128)
    (if (i32.eqz (local.get $kind))
      (then (return (f32x4.pmin (f32x4.pmax (local.get $x) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1)))))
    (if (i32.eq (local.get $kind) (i32.const 1))
      (then (return (f32x4.div (v128.const f32x4 1 1 1 1)
        (f32x4.add (v128.const f32x4 1 1 1 1)
          (call $exp4 (f32x4.mul (f32x4.sub (local.get $x) (v128.const f32x4 0.5 0.5 0.5 0.5)) (v128.const f32x4 -4 -4 -4 -4))))))))
    ;; tanh(x) = 1 - 2 / (exp(2x) + 1)
    (f32x4.sub (v128.const f32x4 1 1 1 1)
      (f32x4.div (v128.const f32x4 2 2 2 2)
        (f32x4.add (call $exp4 (f32x4.add (local.get $x) (local.get $x))) (v128.const f32x4 1 1 1 1)))))

  ;; rho'(x) on four lanes; the hard sigmoid's is 1 on the closed interval [0, 1] (NaN: 0).
  (func $actd4 (param $kind i32) (param $x v128) (result v128)
    (local $r v128)
    (if (i32.eqz (local.get $kind))
      (then (return (v128.and (v128.and (f32x4.ge (local.get $x) (v128.const f32x4 0 0 0 0))
                                        (f32x4.le (local.get $x) (v128.const f32x4 1 1 1 1)))
                              (v128.const f32x4 1 1 1 1)))))
    (local.set $r (call $act4 (local.get $kind) (local.get $x)))
    (if (i32.eq (local.get $kind) (i32.const 1))
      (then (return (f32x4.mul (f32x4.mul (v128.const f32x4 4 4 4 4) (local.get $r))
                               (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $r))))))
    (f32x4.sub (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $r) (local.get $r))))

  ;; o = rho(x) (deriv = 0) or rho'(x) (deriv = 1), n entries; o may alias x.
  (func (export "activate") (param $kind i32) (param $deriv i32) (param $x i32) (param $o i32) (param $n i32)
    (local $vend i32) (local $end i32) (local $v v128)
    (local.set $vend (i32.add (local.get $o) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $end (i32.add (local.get $o) (i32.shl (local.get $n) (i32.const 2))))
    (if (i32.and (i32.eqz (local.get $kind)) (i32.eqz (local.get $deriv)))
      (then
        ;; the hard sigmoid inline: the hot case
        (block $done
          (loop $v
            (br_if $done (i32.ge_u (local.get $o) (local.get $vend)))
            (v128.store (local.get $o)
              (f32x4.pmin (f32x4.pmax (v128.load (local.get $x)) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1)))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $v))))
      (else (if (i32.eqz (local.get $kind))
      (then
        ;; the hard sigmoid's derivative inline: 1 on [0, 1], else 0
        (block $done
          (loop $v
            (br_if $done (i32.ge_u (local.get $o) (local.get $vend)))
            (local.set $v (v128.load (local.get $x)))
            (v128.store (local.get $o)
              (v128.and (v128.and (f32x4.ge (local.get $v) (v128.const f32x4 0 0 0 0))
                                  (f32x4.le (local.get $v) (v128.const f32x4 1 1 1 1)))
                        (v128.const f32x4 1 1 1 1)))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $v))))
      (else
        (block $done
          (loop $v
            (br_if $done (i32.ge_u (local.get $o) (local.get $vend)))
            (if (local.get $deriv)
              (then (v128.store (local.get $o) (call $actd4 (local.get $kind) (v128.load (local.get $x)))))
              (else (v128.store (local.get $o) (call $act4 (local.get $kind) (v128.load (local.get $x))))))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $v)))))))
    (block $done
      (loop $s
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $v (f32x4.splat (f32.load (local.get $x))))
        (if (local.get $deriv)
          (then (local.set $v (call $actd4 (local.get $kind) (local.get $v))))
          (else (local.set $v (call $act4 (local.get $kind) (local.get $v)))))
        (f32.store (local.get $o) (f32x4.extract_lane 0 (local.get $v)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $s))))

  ;; o = min(hi, max(lo, s + scale dt (.) v)), dt (1 x cols) broadcast over the rows.
  ;; No clip: lo = -Infinity, hi = +Infinity. NaN stays NaN.
  (func (export "euler") (param $s i32) (param $v i32) (param $dt i32) (param $o i32) (param $rows i32) (param $cols i32)
        (param $scale f32) (param $lo f32) (param $hi f32)
    (local $vs v128) (local $vlo v128) (local $vhi v128) (local $r i32) (local $d i32) (local $vend i32) (local $end i32) (local $u f32)
    (local.set $vs (f32x4.splat (local.get $scale)))
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (block $rdone
      (loop $row
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $d (local.get $dt))
        (local.set $vend (i32.add (local.get $o) (i32.shl (i32.and (local.get $cols) (i32.const -4)) (i32.const 2))))
        (local.set $end (i32.add (local.get $o) (i32.shl (local.get $cols) (i32.const 2))))
        (block $done
          (loop $vl
            (br_if $done (i32.ge_u (local.get $o) (local.get $vend)))
            (v128.store (local.get $o)
              (f32x4.pmin (f32x4.pmax
                (f32x4.add (v128.load (local.get $s))
                  (f32x4.mul (f32x4.mul (local.get $vs) (v128.load (local.get $d))) (v128.load (local.get $v))))
                (local.get $vlo)) (local.get $vhi)))
            (local.set $s (i32.add (local.get $s) (i32.const 16)))
            (local.set $v (i32.add (local.get $v) (i32.const 16)))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $vl)))
        (block $done
          (loop $sl
            (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
            ;; (u < lo ? lo : u), then (hi < u ? hi : u): as pmax/pmin in the vector loop
            (local.set $u (f32.add (f32.load (local.get $s))
              (f32.mul (f32.mul (local.get $scale) (f32.load (local.get $d))) (f32.load (local.get $v)))))
            (if (f32.lt (local.get $u) (local.get $lo)) (then (local.set $u (local.get $lo))))
            (if (f32.lt (local.get $hi) (local.get $u)) (then (local.set $u (local.get $hi))))
            (f32.store (local.get $o) (local.get $u))
            (local.set $s (i32.add (local.get $s) (i32.const 4)))
            (local.set $v (i32.add (local.get $v) (i32.const 4)))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))
            (br $sl)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; o (1 x cols) = alpha * column sums of x (rows x cols) + beta o; with beta = 0, o is not read.
  (func (export "colsums") (param $x i32) (param $o i32) (param $rows i32) (param $cols i32) (param $alpha f32) (param $beta f32)
    (local $j i32) (local $r i32) (local $p i32) (local $ld i32) (local $acc v128) (local $sacc f32) (local $prev v128)
    (local.set $ld (i32.shl (local.get $cols) (i32.const 2)))
    (block $vdone
      (loop $vl
        (br_if $vdone (i32.gt_s (i32.add (local.get $j) (i32.const 4)) (local.get $cols)))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $r (i32.const 0))
        (block $rdone
          (loop $rl
            (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $acc (f32x4.add (local.get $acc) (v128.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (local.get $ld)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rl)))
        (local.set $p (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $acc (f32x4.mul (local.get $acc) (f32x4.splat (local.get $alpha))))
        (if (f32.ne (local.get $beta) (f32.const 0))
          (then (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $p)) (f32x4.splat (local.get $beta)))))))
        (v128.store (local.get $p) (local.get $acc))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $vl)))
    (block $sdone
      (loop $sl
        (br_if $sdone (i32.ge_u (local.get $j) (local.get $cols)))
        (local.set $sacc (f32.const 0))
        (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $r (i32.const 0))
        (block $rdone
          (loop $rl
            (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $sacc (f32.add (local.get $sacc) (f32.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (local.get $ld)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rl)))
        (local.set $p (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $sacc (f32.mul (local.get $sacc) (local.get $alpha)))
        (if (f32.ne (local.get $beta) (f32.const 0))
          (then (local.set $sacc (f32.add (local.get $sacc) (f32.mul (f32.load (local.get $p)) (local.get $beta))))))
        (f32.store (local.get $p) (local.get $sacc))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $sl))))

  ;; Row-wise softmax of x (rows x cols) into o, the row maximum subtracted first.
  (func (export "softmax") (param $x i32) (param $o i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $j i32) (local $max f32) (local $total f32) (local $e f32) (local $inv f32)
    (block $rdone
      (loop $row
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $max (f32.const -inf))
        (local.set $j (i32.const 0))
        (block $d (loop $l
          (br_if $d (i32.ge_u (local.get $j) (local.get $cols)))
          (local.set $max (f32.max (local.get $max) (f32.load (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $l)))
        (local.set $total (f32.const 0))
        (local.set $j (i32.const 0))
        (block $d (loop $l
          (br_if $d (i32.ge_u (local.get $j) (local.get $cols)))
          (local.set $e (f32x4.extract_lane 0 (call $exp4 (f32x4.splat
            (f32.sub (f32.load (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2)))) (local.get $max))))))
          (f32.store (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))) (local.get $e))
          (local.set $total (f32.add (local.get $total) (local.get $e)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $l)))
        (local.set $inv (f32.div (f32.const 1) (local.get $total)))
        (local.set $j (i32.const 0))
        (block $d (loop $l
          (br_if $d (i32.ge_u (local.get $j) (local.get $cols)))
          (f32.store (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))
            (f32.div (f32.load (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))) (local.get $total)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $l)))
        (local.set $x (i32.add (local.get $x) (i32.shl (local.get $cols) (i32.const 2))))
        (local.set $o (i32.add (local.get $o) (i32.shl (local.get $cols) (i32.const 2))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; ------------------------------------------------------------------ optimizers

  ;; g' = g + wd p; with a velocity (v != 0): v = mom v + g', g' = v; p -= lr g'.
  (func (export "sgd") (param $p i32) (param $g i32) (param $v i32) (param $n i32) (param $lr f32) (param $mom f32) (param $wd f32)
    (local $i i32) (local $gv v128) (local $vlr v128) (local $vmom v128) (local $vwd v128) (local $gs f32)
    (local.set $vlr (f32x4.splat (local.get $lr)))
    (local.set $vmom (f32x4.splat (local.get $mom)))
    (local.set $vwd (f32x4.splat (local.get $wd)))
    (block $done
      (loop $l
        (br_if $done (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
        (local.set $gv (f32x4.add (v128.load (local.get $g)) (f32x4.mul (local.get $vwd) (v128.load (local.get $p)))))
        (if (local.get $v)
          (then
            (local.set $gv (f32x4.add (f32x4.mul (local.get $vmom) (v128.load (local.get $v))) (local.get $gv)))
            (v128.store (local.get $v) (local.get $gv))
            (local.set $v (i32.add (local.get $v) (i32.const 16)))))
        (v128.store (local.get $p) (f32x4.sub (v128.load (local.get $p)) (f32x4.mul (local.get $vlr) (local.get $gv))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $gs (f32.add (f32.load (local.get $g)) (f32.mul (local.get $wd) (f32.load (local.get $p)))))
        (if (local.get $v)
          (then
            (local.set $gs (f32.add (f32.mul (local.get $mom) (f32.load (local.get $v))) (local.get $gs)))
            (f32.store (local.get $v) (local.get $gs))
            (local.set $v (i32.add (local.get $v) (i32.const 4)))))
        (f32.store (local.get $p) (f32.sub (f32.load (local.get $p)) (f32.mul (local.get $lr) (local.get $gs))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l))))

  ;; Adam on four lanes: g' = g + wd p; m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2;
  ;; p -= lr (m / c1) / (sqrt(v / c2) + eps).
  (func $adam4 (param $p i32) (param $g i32) (param $m i32) (param $v i32)
        (param $lr v128) (param $b1 v128) (param $b2 v128) (param $eps v128) (param $wd v128) (param $c1 v128) (param $c2 v128)
    (local $gv v128) (local $mv v128) (local $vv v128)
    (local.set $gv (f32x4.add (v128.load (local.get $g)) (f32x4.mul (local.get $wd) (v128.load (local.get $p)))))
    (local.set $mv (f32x4.add (f32x4.mul (local.get $b1) (v128.load (local.get $m)))
                              (f32x4.mul (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $b1)) (local.get $gv))))
    (local.set $vv (f32x4.add (f32x4.mul (local.get $b2) (v128.load (local.get $v)))
                              (f32x4.mul (f32x4.mul (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $b2)) (local.get $gv)) (local.get $gv))))
    (v128.store (local.get $m) (local.get $mv))
    (v128.store (local.get $v) (local.get $vv))
    (v128.store (local.get $p)
      (f32x4.sub (v128.load (local.get $p))
        (f32x4.div (f32x4.mul (local.get $lr) (f32x4.div (local.get $mv) (local.get $c1)))
                   (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vv) (local.get $c2))) (local.get $eps))))))

  (func (export "adam") (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
        (param $lr f32) (param $b1 f32) (param $b2 f32) (param $eps f32) (param $wd f32) (param $c1 f32) (param $c2 f32)
    (local $i i32) (local $t i32) (local $k i32)
    (block $done
      (loop $l
        (br_if $done (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
        (call $adam4 (local.get $p) (local.get $g) (local.get $m) (local.get $v)
          (f32x4.splat (local.get $lr)) (f32x4.splat (local.get $b1)) (f32x4.splat (local.get $b2)) (f32x4.splat (local.get $eps))
          (f32x4.splat (local.get $wd)) (f32x4.splat (local.get $c1)) (f32x4.splat (local.get $c2)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $m (i32.add (local.get $m) (i32.const 16)))
        (local.set $v (i32.add (local.get $v) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l)))
    ;; the last 1-3 entries: copy them to the scratch vector at address 0 (16 bytes reserved
    ;; by the allocator), update there, copy back
    (local.set $t (i32.sub (local.get $n) (local.get $i)))
    (if (local.get $t)
      (then
        (v128.store (i32.const 0) (v128.const i32x4 0 0 0 0))
        (v128.store (i32.const 16) (v128.const i32x4 0 0 0 0))
        (v128.store (i32.const 32) (v128.const i32x4 0 0 0 0))
        (v128.store (i32.const 48) (v128.const i32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (block $d (loop $c
          (br_if $d (i32.ge_u (local.get $k) (local.get $t)))
          (f32.store (i32.shl (local.get $k) (i32.const 2)) (f32.load (i32.add (local.get $p) (i32.shl (local.get $k) (i32.const 2)))))
          (f32.store offset=16 (i32.shl (local.get $k) (i32.const 2)) (f32.load (i32.add (local.get $g) (i32.shl (local.get $k) (i32.const 2)))))
          (f32.store offset=32 (i32.shl (local.get $k) (i32.const 2)) (f32.load (i32.add (local.get $m) (i32.shl (local.get $k) (i32.const 2)))))
          (f32.store offset=48 (i32.shl (local.get $k) (i32.const 2)) (f32.load (i32.add (local.get $v) (i32.shl (local.get $k) (i32.const 2)))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $c)))
        (call $adam4 (i32.const 0) (i32.const 16) (i32.const 32) (i32.const 48)
          (f32x4.splat (local.get $lr)) (f32x4.splat (local.get $b1)) (f32x4.splat (local.get $b2)) (f32x4.splat (local.get $eps))
          (f32x4.splat (local.get $wd)) (f32x4.splat (local.get $c1)) (f32x4.splat (local.get $c2)))
        (local.set $k (i32.const 0))
        (block $d (loop $c
          (br_if $d (i32.ge_u (local.get $k) (local.get $t)))
          (f32.store (i32.add (local.get $p) (i32.shl (local.get $k) (i32.const 2))) (f32.load (i32.shl (local.get $k) (i32.const 2))))
          (f32.store (i32.add (local.get $m) (i32.shl (local.get $k) (i32.const 2))) (f32.load offset=32 (i32.shl (local.get $k) (i32.const 2))))
          (f32.store (i32.add (local.get $v) (i32.shl (local.get $k) (i32.const 2))) (f32.load offset=48 (i32.shl (local.get $k) (i32.const 2))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $c))))))

  ;; ------------------------------------------------------------------ matrix products

  ;; dst (cols x rows) = src^T (src rows x cols); both dense. Blocks of 4 x 4, transposed in
  ;; registers with shuffles (four rows of src in, four rows of dst out), then the last
  ;; rows mod 4 rows and cols mod 4 columns one entry at a time.
  (func (export "transpose") (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $c i32) (local $s i32) (local $d i32) (local $lds i32) (local $ldd i32)
    (local $rows4 i32) (local $cols4 i32)
    (local $a v128) (local $b v128) (local $e v128) (local $f v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $lds (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $ldd (i32.shl (local.get $rows) (i32.const 2)))
    (local.set $rows4 (i32.and (local.get $rows) (i32.const -4)))
    (local.set $cols4 (i32.and (local.get $cols) (i32.const -4)))
    (block $rdone
      (loop $rl
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows4)))
        (local.set $c (i32.const 0))
        (block $cdone
          (loop $cl
            (br_if $cdone (i32.ge_u (local.get $c) (local.get $cols4)))
            (local.set $s (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $cols)) (local.get $c)) (i32.const 2))))
            (local.set $a (v128.load (local.get $s)))
            (local.set $b (v128.load (i32.add (local.get $s) (local.get $lds))))
            (local.set $e (v128.load (i32.add (local.get $s) (i32.shl (local.get $lds) (i32.const 1)))))
            (local.set $f (v128.load (i32.add (local.get $s) (i32.mul (local.get $lds) (i32.const 3)))))
            ;; (a0 b0 a1 b1), (a2 b2 a3 b3), (e0 f0 e1 f1), (e2 f2 e3 f3)
            (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))
            (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))
            (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $e) (local.get $f)))
            (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $e) (local.get $f)))
            (local.set $d (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r)) (i32.const 2))))
            (v128.store (local.get $d) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
            (v128.store (i32.add (local.get $d) (local.get $ldd)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
            (v128.store (i32.add (local.get $d) (i32.shl (local.get $ldd) (i32.const 1))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
            (v128.store (i32.add (local.get $d) (i32.mul (local.get $ldd) (i32.const 3))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $cl)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rl)))
    ;; the rest: entries with r >= rows4 or c >= cols4
    (local.set $r (i32.const 0))
    (block $rdone
      (loop $rl
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $c (select (local.get $cols4) (i32.const 0) (i32.lt_u (local.get $r) (local.get $rows4))))
        (block $cdone
          (loop $cl
            (br_if $cdone (i32.ge_u (local.get $c) (local.get $cols)))
            (f32.store
              (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r)) (i32.const 2)))
              (f32.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $cols)) (local.get $c)) (i32.const 2)))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $cl)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rl))))

  ;; Panel kernels of gemm: C[i, j0 .. j0 + 4 nv) = alpha sum_p A[i, p] B[p, j0 ..) + beta C[i, j0 ..)
  ;; for i in [0, m), nv vectors of 4 columns held in registers across the whole k loop.
  ;; a, b, c point at A[0, 0], B[0, j0], C[0, j0]; lda, ldb, ldc are row strides in bytes.
  ;; The one-row panels take A in groups of 4 and skip a group whose 4 entries are all 0
  ;; (they serve the odd last row and the last columns; A that is mostly zeros goes to
  ;; gemm_sparse instead). With beta = 0 the previous C is not read.

  ;; The dense panel of gemm: C[i .. i + 2, j0 .. j0 + 16) for rows i in pairs (m even),
  ;; 2 x 4 vectors held in registers across the whole k loop: each B vector loaded serves
  ;; two rows, which halves the loads of B per multiply-add and keeps within the 16 vector
  ;; registers (bigger tiles spill and run slower). No zero skipping: used when A is dense.
  ;; Every C entry sums its k products in order, as the one-row panels do.
  (func $panel4r2 (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $k i32)
        (param $lda i32) (param $ldb i32) (param $ldc i32) (param $alpha f32) (param $beta f32)
    (local $i i32) (local $p i32) (local $ap i32) (local $bp i32) (local $cp i32) (local $s v128) (local $va v128) (local $vb v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128) (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    (local.set $va (f32x4.splat (local.get $alpha)))
    (local.set $vb (f32x4.splat (local.get $beta)))
    (block $idone
      (loop $il
        (br_if $idone (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0)) (local.set $c02 (v128.const i32x4 0 0 0 0)) (local.set $c03 (v128.const i32x4 0 0 0 0))
        (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0)) (local.set $c12 (v128.const i32x4 0 0 0 0)) (local.set $c13 (v128.const i32x4 0 0 0 0))
        (local.set $ap (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))))
        (local.set $bp (local.get $b))
        (local.set $p (i32.const 0))
        (block $pdone
          (loop $pl
            (br_if $pdone (i32.ge_u (local.get $p) (local.get $k)))
            (local.set $b0 (v128.load offset=0 (local.get $bp)))
            (local.set $b1 (v128.load offset=16 (local.get $bp)))
            (local.set $b2 (v128.load offset=32 (local.get $bp)))
            (local.set $b3 (v128.load offset=48 (local.get $bp)))
            (local.set $s (v128.load32_splat (local.get $ap)))
            (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
            (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s) (local.get $b1))))
            (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $s) (local.get $b2))))
            (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $s) (local.get $b3))))
            (local.set $s (v128.load32_splat (i32.add (local.get $ap) (local.get $lda))))
            (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $b0))))
            (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s) (local.get $b1))))
            (local.set $c12 (f32x4.add (local.get $c12) (f32x4.mul (local.get $s) (local.get $b2))))
            (local.set $c13 (f32x4.add (local.get $c13) (f32x4.mul (local.get $s) (local.get $b3))))
            (local.set $bp (i32.add (local.get $bp) (local.get $ldb)))
            (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $pl)))
        (local.set $cp (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (if (f32.eq (local.get $beta) (f32.const 0))
          (then
              (v128.store offset=0 (local.get $cp) (f32x4.mul (local.get $va) (local.get $c00)))
              (v128.store offset=16 (local.get $cp) (f32x4.mul (local.get $va) (local.get $c01)))
              (v128.store offset=32 (local.get $cp) (f32x4.mul (local.get $va) (local.get $c02)))
              (v128.store offset=48 (local.get $cp) (f32x4.mul (local.get $va) (local.get $c03))))
          (else
              (v128.store offset=0 (local.get $cp) (f32x4.add (f32x4.mul (local.get $va) (local.get $c00)) (f32x4.mul (local.get $vb) (v128.load offset=0 (local.get $cp)))))
              (v128.store offset=16 (local.get $cp) (f32x4.add (f32x4.mul (local.get $va) (local.get $c01)) (f32x4.mul (local.get $vb) (v128.load offset=16 (local.get $cp)))))
              (v128.store offset=32 (local.get $cp) (f32x4.add (f32x4.mul (local.get $va) (local.get $c02)) (f32x4.mul (local.get $vb) (v128.load offset=32 (local.get $cp)))))
              (v128.store offset=48 (local.get $cp) (f32x4.add (f32x4.mul (local.get $va) (local.get $c03)) (f32x4.mul (local.get $vb) (v128.load offset=48 (local.get $cp)))))))
        (local.set $cp (i32.add (local.get $cp) (local.get $ldc)))
        (if (f32.eq (local.get $beta) (f32.const 0))
          (then
              (v128.store offset=0 (local.get $cp) (f32x4.mul (local.get $va) (local.get $c10)))
              (v128.store offset=16 (local.get $cp) (f32x4.mul (local.get $va) (local.get $c11)))
              (v128.store offset=32 (local.get $cp) (f32x4.mul (local.get $va) (local.get $c12)))
              (v128.store offset=48 (local.get $cp) (f32x4.mul (local.get $va) (local.get $c13))))
          (else
              (v128.store offset=0 (local.get $cp) (f32x4.add (f32x4.mul (local.get $va) (local.get $c10)) (f32x4.mul (local.get $vb) (v128.load offset=0 (local.get $cp)))))
              (v128.store offset=16 (local.get $cp) (f32x4.add (f32x4.mul (local.get $va) (local.get $c11)) (f32x4.mul (local.get $vb) (v128.load offset=16 (local.get $cp)))))
              (v128.store offset=32 (local.get $cp) (f32x4.add (f32x4.mul (local.get $va) (local.get $c12)) (f32x4.mul (local.get $vb) (v128.load offset=32 (local.get $cp)))))
              (v128.store offset=48 (local.get $cp) (f32x4.add (f32x4.mul (local.get $va) (local.get $c13)) (f32x4.mul (local.get $vb) (v128.load offset=48 (local.get $cp)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $il))))

  (func $panel4 (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $k i32)
        (param $lda i32) (param $ldb i32) (param $ldc i32) (param $alpha f32) (param $beta f32)
    (local $i i32) (local $p i32) (local $ap i32) (local $bp i32) (local $k4 i32) (local $g v128) (local $s v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $va v128) (local $vb v128)
    (local.set $k4 (i32.and (local.get $k) (i32.const -4)))
    (local.set $va (f32x4.splat (local.get $alpha)))
    (local.set $vb (f32x4.splat (local.get $beta)))
    (block $idone
      (loop $il
        (br_if $idone (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $c0 (v128.const i32x4 0 0 0 0)) (local.set $c1 (v128.const i32x4 0 0 0 0))
        (local.set $c2 (v128.const i32x4 0 0 0 0)) (local.set $c3 (v128.const i32x4 0 0 0 0))
        (local.set $ap (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))))
        (local.set $bp (local.get $b))
        (local.set $p (i32.const 0))
        (block $gdone
          (loop $gl
            (br_if $gdone (i32.ge_u (local.get $p) (local.get $k4)))
            (local.set $g (v128.load (local.get $ap)))
            (if (v128.any_true (f32x4.ne (local.get $g) (v128.const i32x4 0 0 0 0)))
              (then
                (local.set $s (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $g) (local.get $g)))
                (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $bp)))))
                (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $bp)))))
                (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $bp)))))
                (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (v128.load offset=48 (local.get $bp)))))
                (local.set $bp (i32.add (local.get $bp) (local.get $ldb)))
                (local.set $s (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $g) (local.get $g)))
                (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $bp)))))
                (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $bp)))))
                (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $bp)))))
                (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (v128.load offset=48 (local.get $bp)))))
                (local.set $bp (i32.add (local.get $bp) (local.get $ldb)))
                (local.set $s (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $g) (local.get $g)))
                (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $bp)))))
                (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $bp)))))
                (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $bp)))))
                (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (v128.load offset=48 (local.get $bp)))))
                (local.set $bp (i32.add (local.get $bp) (local.get $ldb)))
                (local.set $s (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $g) (local.get $g)))
                (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $bp)))))
                (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $bp)))))
                (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $bp)))))
                (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (v128.load offset=48 (local.get $bp)))))
                (local.set $bp (i32.add (local.get $bp) (local.get $ldb))))
              (else (local.set $bp (i32.add (local.get $bp) (i32.shl (local.get $ldb) (i32.const 2))))))
            (local.set $ap (i32.add (local.get $ap) (i32.const 16)))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $gl)))
        (block $tdone
          (loop $tl
            (br_if $tdone (i32.ge_u (local.get $p) (local.get $k)))
            (local.set $s (v128.load32_splat (local.get $ap)))
            (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $bp)))))
            (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $bp)))))
            (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $bp)))))
            (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (v128.load offset=48 (local.get $bp)))))
            (local.set $bp (i32.add (local.get $bp) (local.get $ldb)))
            (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $tl)))
        (local.set $ap (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (if (f32.eq (local.get $beta) (f32.const 0))
          (then
            (v128.store offset=0 (local.get $ap) (f32x4.mul (local.get $va) (local.get $c0)))
            (v128.store offset=16 (local.get $ap) (f32x4.mul (local.get $va) (local.get $c1)))
            (v128.store offset=32 (local.get $ap) (f32x4.mul (local.get $va) (local.get $c2)))
            (v128.store offset=48 (local.get $ap) (f32x4.mul (local.get $va) (local.get $c3))))
          (else
            (v128.store offset=0 (local.get $ap) (f32x4.add (f32x4.mul (local.get $va) (local.get $c0)) (f32x4.mul (local.get $vb) (v128.load offset=0 (local.get $ap)))))
            (v128.store offset=16 (local.get $ap) (f32x4.add (f32x4.mul (local.get $va) (local.get $c1)) (f32x4.mul (local.get $vb) (v128.load offset=16 (local.get $ap)))))
            (v128.store offset=32 (local.get $ap) (f32x4.add (f32x4.mul (local.get $va) (local.get $c2)) (f32x4.mul (local.get $vb) (v128.load offset=32 (local.get $ap)))))
            (v128.store offset=48 (local.get $ap) (f32x4.add (f32x4.mul (local.get $va) (local.get $c3)) (f32x4.mul (local.get $vb) (v128.load offset=48 (local.get $ap)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $il))))

  ;; Two vectors, the second holding w2 (1..4) valid columns; the panel for 5 to 8 columns.
  (func $panel2 (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $k i32)
        (param $lda i32) (param $ldb i32) (param $ldc i32) (param $alpha f32) (param $beta f32) (param $w2 i32)
    (local $i i32) (local $p i32) (local $ap i32) (local $bp i32) (local $k4 i32) (local $g v128) (local $s v128)
    (local $c0 v128) (local $c1 v128) (local $va v128) (local $vb v128)
    (local.set $k4 (i32.and (local.get $k) (i32.const -4)))
    (local.set $va (f32x4.splat (local.get $alpha)))
    (local.set $vb (f32x4.splat (local.get $beta)))
    (block $idone
      (loop $il
        (br_if $idone (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $c0 (v128.const i32x4 0 0 0 0)) (local.set $c1 (v128.const i32x4 0 0 0 0))
        (local.set $ap (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))))
        (local.set $bp (local.get $b))
        (local.set $p (i32.const 0))
        (block $gdone
          (loop $gl
            (br_if $gdone (i32.ge_u (local.get $p) (local.get $k4)))
            (local.set $g (v128.load (local.get $ap)))
            (if (v128.any_true (f32x4.ne (local.get $g) (v128.const i32x4 0 0 0 0)))
              (then
                (local.set $s (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $g) (local.get $g)))
                (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $bp)))))
                (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $bp)))))
                (local.set $bp (i32.add (local.get $bp) (local.get $ldb)))
                (local.set $s (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $g) (local.get $g)))
                (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $bp)))))
                (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $bp)))))
                (local.set $bp (i32.add (local.get $bp) (local.get $ldb)))
                (local.set $s (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $g) (local.get $g)))
                (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $bp)))))
                (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $bp)))))
                (local.set $bp (i32.add (local.get $bp) (local.get $ldb)))
                (local.set $s (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $g) (local.get $g)))
                (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $bp)))))
                (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $bp)))))
                (local.set $bp (i32.add (local.get $bp) (local.get $ldb))))
              (else (local.set $bp (i32.add (local.get $bp) (i32.shl (local.get $ldb) (i32.const 2))))))
            (local.set $ap (i32.add (local.get $ap) (i32.const 16)))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $gl)))
        (block $tdone
          (loop $tl
            (br_if $tdone (i32.ge_u (local.get $p) (local.get $k)))
            (local.set $s (v128.load32_splat (local.get $ap)))
            (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $bp)))))
            (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $bp)))))
            (local.set $bp (i32.add (local.get $bp) (local.get $ldb)))
            (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $tl)))
        (local.set $ap (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (if (f32.eq (local.get $beta) (f32.const 0))
          (then
            (v128.store offset=0 (local.get $ap) (f32x4.mul (local.get $va) (local.get $c0)))
            (call $store_part (i32.add (local.get $ap) (i32.const 16)) (f32x4.mul (local.get $va) (local.get $c1)) (local.get $w2)))
          (else
            (v128.store offset=0 (local.get $ap) (f32x4.add (f32x4.mul (local.get $va) (local.get $c0)) (f32x4.mul (local.get $vb) (v128.load offset=0 (local.get $ap)))))
            (call $store_part (i32.add (local.get $ap) (i32.const 16))
              (f32x4.add (f32x4.mul (local.get $va) (local.get $c1))
                         (f32x4.mul (local.get $vb) (call $load_part (i32.add (local.get $ap) (i32.const 16)) (local.get $w2))))
              (local.get $w2))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $il))))

  ;; One vector holding w (1..4) valid columns: the panel for 1 to 4 columns.
  (func $panel1 (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $k i32)
        (param $lda i32) (param $ldb i32) (param $ldc i32) (param $alpha f32) (param $beta f32) (param $w i32)
    (local $i i32) (local $p i32) (local $ap i32) (local $bp i32) (local $k4 i32) (local $g v128)
    (local $c0 v128) (local $va v128) (local $vb v128)
    (local.set $k4 (i32.and (local.get $k) (i32.const -4)))
    (local.set $va (f32x4.splat (local.get $alpha)))
    (local.set $vb (f32x4.splat (local.get $beta)))
    (block $idone
      (loop $il
        (br_if $idone (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $c0 (v128.const i32x4 0 0 0 0))
        (local.set $ap (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))))
        (local.set $bp (local.get $b))
        (local.set $p (i32.const 0))
        (block $gdone
          (loop $gl
            (br_if $gdone (i32.ge_u (local.get $p) (local.get $k4)))
            (local.set $g (v128.load (local.get $ap)))
            (if (v128.any_true (f32x4.ne (local.get $g) (v128.const i32x4 0 0 0 0)))
              (then
                (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $g) (local.get $g)) (v128.load (local.get $bp)))))
                (local.set $bp (i32.add (local.get $bp) (local.get $ldb)))
                (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $g) (local.get $g)) (v128.load (local.get $bp)))))
                (local.set $bp (i32.add (local.get $bp) (local.get $ldb)))
                (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $g) (local.get $g)) (v128.load (local.get $bp)))))
                (local.set $bp (i32.add (local.get $bp) (local.get $ldb)))
                (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $g) (local.get $g)) (v128.load (local.get $bp)))))
                (local.set $bp (i32.add (local.get $bp) (local.get $ldb))))
              (else (local.set $bp (i32.add (local.get $bp) (i32.shl (local.get $ldb) (i32.const 2))))))
            (local.set $ap (i32.add (local.get $ap) (i32.const 16)))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $gl)))
        (block $tdone
          (loop $tl
            (br_if $tdone (i32.ge_u (local.get $p) (local.get $k)))
            (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (v128.load32_splat (local.get $ap)) (v128.load (local.get $bp)))))
            (local.set $bp (i32.add (local.get $bp) (local.get $ldb)))
            (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $tl)))
        (local.set $ap (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (if (f32.eq (local.get $beta) (f32.const 0))
          (then (call $store_part (local.get $ap) (f32x4.mul (local.get $va) (local.get $c0)) (local.get $w)))
          (else (call $store_part (local.get $ap)
            (f32x4.add (f32x4.mul (local.get $va) (local.get $c0)) (f32x4.mul (local.get $vb) (call $load_part (local.get $ap) (local.get $w))))
            (local.get $w))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $il))))

  ;; Stores the first w (1..4) lanes of v at ptr.
  (func $store_part (param $ptr i32) (param $v v128) (param $w i32)
    (if (i32.ge_u (local.get $w) (i32.const 4)) (then (v128.store (local.get $ptr) (local.get $v)) (return)))
    (f32.store (local.get $ptr) (f32x4.extract_lane 0 (local.get $v)))
    (if (i32.ge_u (local.get $w) (i32.const 2)) (then (f32.store offset=4 (local.get $ptr) (f32x4.extract_lane 1 (local.get $v)))))
    (if (i32.ge_u (local.get $w) (i32.const 3)) (then (f32.store offset=8 (local.get $ptr) (f32x4.extract_lane 2 (local.get $v))))))

  ;; Loads the first w (1..4) floats at ptr into the low lanes (the others 0).
  (func $load_part (param $ptr i32) (param $w i32) (result v128)
    (local $v v128)
    (if (i32.ge_u (local.get $w) (i32.const 4)) (then (return (v128.load (local.get $ptr)))))
    (local.set $v (v128.load32_zero (local.get $ptr)))
    (if (i32.ge_u (local.get $w) (i32.const 2)) (then (local.set $v (f32x4.replace_lane 1 (local.get $v) (f32.load offset=4 (local.get $ptr))))))
    (if (i32.ge_u (local.get $w) (i32.const 3)) (then (local.set $v (f32x4.replace_lane 2 (local.get $v) (f32.load offset=8 (local.get $ptr))))))
    (local.get $v))

  ;; C (m x n) = alpha A (m x k) B (k x n) + beta C, all dense row-major with leading
  ;; dimensions lda, ldb, ldc (in floats). Columns go in panels of 16 (two rows at a time,
  ;; an odd last row alone), then 5-8 or 1-4; each panel is swept over all rows, so its
  ;; slice of B stays in cache.
  (func (export "gemm") (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32)
        (param $lda i32) (param $ldb i32) (param $ldc i32) (param $alpha f32) (param $beta f32)
    (local $j i32) (local $left i32) (local $even i32) (local $last i32) (local $lastc i32)
    (local.set $lda (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $even (i32.and (local.get $m) (i32.const -2)))
    (local.set $last (i32.add (local.get $a) (i32.mul (local.get $even) (local.get $lda))))
    (local.set $lastc (i32.add (local.get $c) (i32.mul (local.get $even) (local.get $ldc))))
    (block $done
      (loop $l
        (br_if $done (i32.lt_s (i32.sub (local.get $n) (local.get $j)) (i32.const 16)))
        (call $panel4r2 (local.get $a) (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 2)))
          (local.get $even) (local.get $k) (local.get $lda) (local.get $ldb) (local.get $ldc) (local.get $alpha) (local.get $beta))
        (if (i32.ne (local.get $even) (local.get $m))
          (then
            (call $panel4 (local.get $last) (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (i32.add (local.get $lastc) (i32.shl (local.get $j) (i32.const 2)))
              (i32.const 1) (local.get $k) (local.get $lda) (local.get $ldb) (local.get $ldc) (local.get $alpha) (local.get $beta))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $l)))
    (block $done
      (loop $l
        (local.set $left (i32.sub (local.get $n) (local.get $j)))
        (br_if $done (i32.le_s (local.get $left) (i32.const 4)))
        (call $panel2 (local.get $a) (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 2)))
          (local.get $m) (local.get $k) (local.get $lda) (local.get $ldb) (local.get $ldc) (local.get $alpha) (local.get $beta)
          (select (i32.sub (local.get $left) (i32.const 4)) (i32.const 4) (i32.lt_s (local.get $left) (i32.const 8))))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $l)))
    (local.set $left (i32.sub (local.get $n) (local.get $j)))
    (if (i32.gt_s (local.get $left) (i32.const 0))
      (then
        (call $panel1 (local.get $a) (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 2)))
          (local.get $m) (local.get $k) (local.get $lda) (local.get $ldb) (local.get $ldc) (local.get $alpha) (local.get $beta) (local.get $left)))))

  ;; C (m x n) = alpha A (m x k) B (k x n) + beta C for a small k (the output layer's few
  ;; states driving a wide layer; A, B and C contiguous). Per row, the nonzero A[i, p] (most
  ;; output states are exactly 0) are listed first at `list` (alpha A[i, p] and the address
  ;; of B's row p), then 6 (then 4, then 1) vectors of the row at a time are summed in
  ;; registers over the list: C[i, j] = beta C[i, j] + alpha A[i, p1] B[p1, j] + alpha
  ;; A[i, p2] B[p2, j] + ..., added in that order. With cz (not 0) the sums start from
  ;; Cz[i, j] instead of C[i, j] (a copy into C queued just before, beta 1). With s (not 0)
  ;; the hard sigmoid's gradient rule follows on the row, as grad_euler_hsig does with o =
  ;; the sum: da = rho'(s), C = s - da (.) o, next = min(hi, max(lo, s + (scale dt) (.) C)),
  ;; and with act (not 0) also act = rho(s), the hard sigmoid of the state (activate, fused).
  ;; dead = 3: C and da are overwritten later in the queue before anything reads them, so
  ;; their stores may be left out (done in the relaxation's case, see the loop).
  (func (export "gemm_sk") (param $a i32) (param $b i32) (param $c i32) (param $cz i32) (param $m i32) (param $n i32) (param $k i32)
        (param $alpha f32) (param $beta f32) (param $list i32)
        (param $s i32) (param $da i32) (param $dt i32) (param $next i32) (param $scale f32) (param $lo f32) (param $hi f32) (param $act i32) (param $dead i32)
    (local $i i32) (local $fast i32) (local $p i32) (local $e i32) (local $lend i32) (local $nb i32) (local $v1 i32)
    (local $j i32) (local $src i32) (local $bp i32) (local $av f32) (local $xs f32) (local $ms f32) (local $gs f32)
    (local $sv v128) (local $vb v128) (local $vs v128) (local $vlo v128) (local $vhi v128) (local $x v128) (local $g v128) (local $mk v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $c4 v128) (local $c5 v128)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $v1 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $vb (f32x4.splat (local.get $beta)))
    (local.set $vs (f32x4.splat (local.get $scale)))
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (local.set $fast (i32.and (i32.and (i32.eq (local.get $dead) (i32.const 3)) (i32.ne (local.get $act) (i32.const 0)))
      (i32.and (f32.eq (local.get $scale) (f32.const -1))
        (i32.and (i32.eqz (i32.reinterpret_f32 (local.get $lo))) (f32.eq (local.get $hi) (f32.const 1))))))
    (block $idone
      (loop $il
        (br_if $idone (i32.ge_u (local.get $i) (local.get $m)))
        ;; the row's nonzero entries of A
        (local.set $e (local.get $list))
        (local.set $p (i32.const 0))
        (block $pdone
          (loop $pl
            (br_if $pdone (i32.ge_u (local.get $p) (local.get $k)))
            (local.set $av (f32.load (i32.add (local.get $a) (i32.shl (local.get $p) (i32.const 2)))))
            (if (f32.ne (local.get $av) (f32.const 0))
              (then
                (f32.store (local.get $e) (f32.mul (local.get $alpha) (local.get $av)))
                (i32.store offset=4 (local.get $e) (i32.add (local.get $b) (i32.mul (local.get $p) (local.get $nb))))
                (local.set $e (i32.add (local.get $e) (i32.const 8)))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $pl)))
        (local.set $lend (local.get $e))
        ;; where the sums start: C0's row, or C's row scaled by beta first (0: overwrite, NaN included; 1: leave)
        (local.set $src (local.get $cz))
        (if (i32.eqz (local.get $cz))
          (then
            (local.set $src (local.get $c))
            (if (f32.ne (local.get $beta) (f32.const 1))
              (then
                (local.set $j (i32.const 0))
                (block $d (loop $l
                  (br_if $d (i32.ge_u (local.get $j) (local.get $v1)))
                  (if (f32.eq (local.get $beta) (f32.const 0))
                    (then (v128.store (i32.add (local.get $c) (local.get $j)) (v128.const i32x4 0 0 0 0)))
                    (else (v128.store (i32.add (local.get $c) (local.get $j)) (f32x4.mul (local.get $vb) (v128.load (i32.add (local.get $c) (local.get $j)))))))
                  (local.set $j (i32.add (local.get $j) (i32.const 16)))
                  (br $l)))
                (block $d (loop $l
                  (br_if $d (i32.ge_u (local.get $j) (local.get $nb)))
                  (if (f32.eq (local.get $beta) (f32.const 0))
                    (then (f32.store (i32.add (local.get $c) (local.get $j)) (f32.const 0)))
                    (else (f32.store (i32.add (local.get $c) (local.get $j)) (f32.mul (local.get $beta) (f32.load (i32.add (local.get $c) (local.get $j)))))))
                  (local.set $j (i32.add (local.get $j) (i32.const 4)))
                  (br $l)))))))
        ;; 6 vectors at a time, then 4 (six accumulators: with eight the engine keeps one on the stack)
        (local.set $j (i32.const 0))
        (block $j6done
          (loop $j6l
            (br_if $j6done (i32.gt_u (i32.add (local.get $j) (i32.const 96)) (local.get $v1)))
            (local.set $bp (i32.add (local.get $src) (local.get $j)))
            (local.set $c0 (v128.load offset=0 (local.get $bp)))
            (local.set $c1 (v128.load offset=16 (local.get $bp)))
            (local.set $c2 (v128.load offset=32 (local.get $bp)))
            (local.set $c3 (v128.load offset=48 (local.get $bp)))
            (local.set $c4 (v128.load offset=64 (local.get $bp)))
            (local.set $c5 (v128.load offset=80 (local.get $bp)))
            (local.set $e (local.get $list))
            (block $e6done
              (loop $e6l
                (br_if $e6done (i32.ge_u (local.get $e) (local.get $lend)))
                (local.set $sv (v128.load32_splat (local.get $e)))
                (local.set $bp (i32.add (i32.load offset=4 (local.get $e)) (local.get $j)))
                (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $sv) (v128.load offset=0 (local.get $bp)))))
                (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $sv) (v128.load offset=16 (local.get $bp)))))
                (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $sv) (v128.load offset=32 (local.get $bp)))))
                (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $sv) (v128.load offset=48 (local.get $bp)))))
                (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $sv) (v128.load offset=64 (local.get $bp)))))
                (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $sv) (v128.load offset=80 (local.get $bp)))))
                (local.set $e (i32.add (local.get $e) (i32.const 8)))
                (br $e6l)))
            (local.set $bp (i32.add (local.get $c) (local.get $j)))
            (v128.store offset=0 (local.get $bp) (local.get $c0))
            (v128.store offset=16 (local.get $bp) (local.get $c1))
            (v128.store offset=32 (local.get $bp) (local.get $c2))
            (v128.store offset=48 (local.get $bp) (local.get $c3))
            (v128.store offset=64 (local.get $bp) (local.get $c4))
            (v128.store offset=80 (local.get $bp) (local.get $c5))
            (local.set $j (i32.add (local.get $j) (i32.const 96)))
            (br $j6l)))
        (block $j4done
          (loop $j4l
            (br_if $j4done (i32.gt_u (i32.add (local.get $j) (i32.const 64)) (local.get $v1)))
            (local.set $bp (i32.add (local.get $src) (local.get $j)))
            (local.set $c0 (v128.load offset=0 (local.get $bp)))
            (local.set $c1 (v128.load offset=16 (local.get $bp)))
            (local.set $c2 (v128.load offset=32 (local.get $bp)))
            (local.set $c3 (v128.load offset=48 (local.get $bp)))
            (local.set $e (local.get $list))
            (block $e4done
              (loop $e4l
                (br_if $e4done (i32.ge_u (local.get $e) (local.get $lend)))
                (local.set $sv (v128.load32_splat (local.get $e)))
                (local.set $bp (i32.add (i32.load offset=4 (local.get $e)) (local.get $j)))
                (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $sv) (v128.load offset=0 (local.get $bp)))))
                (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $sv) (v128.load offset=16 (local.get $bp)))))
                (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $sv) (v128.load offset=32 (local.get $bp)))))
                (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $sv) (v128.load offset=48 (local.get $bp)))))
                (local.set $e (i32.add (local.get $e) (i32.const 8)))
                (br $e4l)))
            (local.set $bp (i32.add (local.get $c) (local.get $j)))
            (v128.store offset=0 (local.get $bp) (local.get $c0))
            (v128.store offset=16 (local.get $bp) (local.get $c1))
            (v128.store offset=32 (local.get $bp) (local.get $c2))
            (v128.store offset=48 (local.get $bp) (local.get $c3))
            (local.set $j (i32.add (local.get $j) (i32.const 64)))
            (br $j4l)))
        ;; the remaining whole vectors, one at a time
        (block $jdone
          (loop $jl
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $v1)))
            (local.set $c0 (v128.load (i32.add (local.get $src) (local.get $j))))
            (local.set $e (local.get $list))
            (block $edone
              (loop $el
                (br_if $edone (i32.ge_u (local.get $e) (local.get $lend)))
                (local.set $c0 (f32x4.add (local.get $c0)
                  (f32x4.mul (v128.load32_splat (local.get $e)) (v128.load (i32.add (i32.load offset=4 (local.get $e)) (local.get $j))))))
                (local.set $e (i32.add (local.get $e) (i32.const 8)))
                (br $el)))
            (v128.store (i32.add (local.get $c) (local.get $j)) (local.get $c0))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $jl)))
        ;; the last n mod 4 entries
        (block $jdone
          (loop $jl
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $nb)))
            (local.set $xs (f32.load (i32.add (local.get $src) (local.get $j))))
            (local.set $e (local.get $list))
            (block $edone
              (loop $el
                (br_if $edone (i32.ge_u (local.get $e) (local.get $lend)))
                (local.set $xs (f32.add (local.get $xs)
                  (f32.mul (f32.load (local.get $e)) (f32.load (i32.add (i32.load offset=4 (local.get $e)) (local.get $j))))))
                (local.set $e (i32.add (local.get $e) (i32.const 8)))
                (br $el)))
            (f32.store (i32.add (local.get $c) (local.get $j)) (local.get $xs))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $jl)))
        ;; the gradient rule on the row, from the sums just stored (still in the cache)
        (if (local.get $s)
          (then
            (local.set $j (i32.const 0))
            ;; the relaxation's case (clip to [+0, 1], scale -1, the activation wanted, da and
            ;; the gradient overwritten later in the queue, dead = 3): no stores of da and C,
            ;; and x + (-dt) g written x - dt g (the same value: negation is exact)
            (if (local.get $fast)
              (then
                (block $d (loop $l
                  (br_if $d (i32.ge_u (local.get $j) (local.get $v1)))
                  (local.set $x (v128.load (i32.add (local.get $s) (local.get $j))))
                  (v128.store (i32.add (local.get $act) (local.get $j))
                    (f32x4.pmin (f32x4.pmax (local.get $x) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1)))
                  (local.set $g (f32x4.sub (local.get $x) (f32x4.mul
                    (v128.and (v128.and (f32x4.ge (local.get $x) (v128.const f32x4 0 0 0 0))
                                        (f32x4.le (local.get $x) (v128.const f32x4 1 1 1 1)))
                              (v128.const f32x4 1 1 1 1))
                    (v128.load (i32.add (local.get $c) (local.get $j))))))
                  (v128.store (i32.add (local.get $next) (local.get $j))
                    (f32x4.pmin (f32x4.pmax
                      (f32x4.sub (local.get $x) (f32x4.mul (v128.load (i32.add (local.get $dt) (local.get $j))) (local.get $g)))
                      (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1)))
                  (local.set $j (i32.add (local.get $j) (i32.const 16)))
                  (br $l)))))
            (block $d (loop $l
              (br_if $d (i32.ge_u (local.get $j) (local.get $v1)))
              (local.set $x (v128.load (i32.add (local.get $s) (local.get $j))))
              (if (local.get $act)
                (then (v128.store (i32.add (local.get $act) (local.get $j))
                  (f32x4.pmin (f32x4.pmax (local.get $x) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1)))))
              (local.set $mk (v128.and (v128.and (f32x4.ge (local.get $x) (v128.const f32x4 0 0 0 0))
                                                 (f32x4.le (local.get $x) (v128.const f32x4 1 1 1 1)))
                                       (v128.const f32x4 1 1 1 1)))
              (v128.store (i32.add (local.get $da) (local.get $j)) (local.get $mk))
              (local.set $g (f32x4.sub (local.get $x) (f32x4.mul (local.get $mk) (v128.load (i32.add (local.get $c) (local.get $j))))))
              (v128.store (i32.add (local.get $c) (local.get $j)) (local.get $g))
              (v128.store (i32.add (local.get $next) (local.get $j))
                (f32x4.pmin (f32x4.pmax
                  (f32x4.add (local.get $x) (f32x4.mul (f32x4.mul (local.get $vs) (v128.load (i32.add (local.get $dt) (local.get $j)))) (local.get $g)))
                  (local.get $vlo)) (local.get $vhi)))
              (local.set $j (i32.add (local.get $j) (i32.const 16)))
              (br $l)))
            (block $d (loop $l
              (br_if $d (i32.ge_u (local.get $j) (local.get $nb)))
              (local.set $xs (f32.load (i32.add (local.get $s) (local.get $j))))
              (if (local.get $act)
                (then (f32.store (i32.add (local.get $act) (local.get $j)) (f32x4.extract_lane 0
                  (f32x4.pmin (f32x4.pmax (f32x4.splat (local.get $xs)) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))))))
              (local.set $ms (select (f32.const 1) (f32.const 0)
                (i32.and (f32.ge (local.get $xs) (f32.const 0)) (f32.le (local.get $xs) (f32.const 1)))))
              (f32.store (i32.add (local.get $da) (local.get $j)) (local.get $ms))
              (local.set $gs (f32.sub (local.get $xs) (f32.mul (local.get $ms) (f32.load (i32.add (local.get $c) (local.get $j))))))
              (f32.store (i32.add (local.get $c) (local.get $j)) (local.get $gs))
              (local.set $gs (f32.add (local.get $xs) (f32.mul (f32.mul (local.get $scale) (f32.load (i32.add (local.get $dt) (local.get $j)))) (local.get $gs))))
              (if (f32.lt (local.get $gs) (local.get $lo)) (then (local.set $gs (local.get $lo))))
              (if (f32.lt (local.get $hi) (local.get $gs)) (then (local.set $gs (local.get $hi))))
              (f32.store (i32.add (local.get $next) (local.get $j)) (local.get $gs))
              (local.set $j (i32.add (local.get $j) (i32.const 4)))
              (br $l)))
            (local.set $s (i32.add (local.get $s) (local.get $nb)))
            (local.set $da (i32.add (local.get $da) (local.get $nb)))
            (local.set $next (i32.add (local.get $next) (local.get $nb)))
            (if (local.get $act) (then (local.set $act (i32.add (local.get $act) (local.get $nb)))))))
        (local.set $a (i32.add (local.get $a) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $c (i32.add (local.get $c) (local.get $nb)))
        (if (local.get $cz) (then (local.set $cz (i32.add (local.get $cz) (local.get $nb)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $il))))

  ;; Index of the first NaN or +-Infinity among n floats at x, or -1.
  (func (export "nonfinite") (param $x i32) (param $n i32) (result i32)
    (local $i i32) (local $v v128) (local $f f32)
    (block $vdone
      (loop $l
        (br_if $vdone (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
        (local.set $v (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $v (f32x4.sub (local.get $v) (local.get $v)))
        (br_if $vdone (v128.any_true (f32x4.ne (local.get $v) (local.get $v))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $f (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))
        (if (f32.ne (f32.sub (local.get $f) (local.get $f)) (f32.const 0)) (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i32.const -1))

  ;; Number of nonzero floats among n at x (NaN counts as nonzero).
  (func (export "nonzeros") (param $x i32) (param $n i32) (result i32)
    (local $i i32) (local $c v128) (local $total i32)
    (block $vdone
      (loop $l
        (br_if $vdone (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
        ;; a nonzero lane's mask is -1: subtracting it counts one
        (local.set $c (i32x4.sub (local.get $c)
          (f32x4.ne (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))) (v128.const i32x4 0 0 0 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l)))
    (local.set $total (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $c)) (i32x4.extract_lane 1 (local.get $c)))
      (i32.add (i32x4.extract_lane 2 (local.get $c)) (i32x4.extract_lane 3 (local.get $c)))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $total (i32.add (local.get $total)
          (f32.ne (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))) (f32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $total))

  ;; Sum of each of four vectors, as the lanes of one: (sum a0, sum a1, sum a2, sum a3).
  (func $hsum4 (param $a0 v128) (param $a1 v128) (param $a2 v128) (param $a3 v128) (result v128)
    (local $u v128) (local $w v128)
    (local.set $u (f32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a0) (local.get $a1))
                             (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a0) (local.get $a1))))
    (local.set $w (f32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a2) (local.get $a3))
                             (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a2) (local.get $a3))))
    (f32x4.add (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $u) (local.get $w))
               (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $u) (local.get $w))))

  ;; C (m x n) = alpha A (m x k) BT^T + beta C, BT (n x k) row-major: each entry is a dot
  ;; product of two contiguous rows. For few output columns (a 500 -> 10 layer), where the
  ;; panel kernels would hold only two or three vectors per row. Two rows of A by four rows
  ;; of BT at a time, eight accumulators; an odd last row or a last group of fewer than
  ;; four columns reads a duplicate of the last valid row and stores only the valid part.
  (func (export "gemm_dot") (param $a i32) (param $bt i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32)
        (param $lda i32) (param $ldb i32) (param $ldc i32) (param $alpha f32) (param $beta f32)
    (local $i i32) (local $j i32) (local $p i32) (local $k4 i32) (local $w i32) (local $two i32)
    (local $a0 i32) (local $a1 i32) (local $b0 i32) (local $b1 i32) (local $b2 i32) (local $b3 i32) (local $cp i32)
    (local $x0 v128) (local $x1 v128)
    (local $s00 v128) (local $s01 v128) (local $s02 v128) (local $s03 v128)
    (local $s10 v128) (local $s11 v128) (local $s12 v128) (local $s13 v128)
    (local $f0 f32) (local $f1 f32) (local $va v128) (local $vb v128) (local $r v128)
    (local.set $lda (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    ;; k4: bytes of the whole vectors of a row
    (local.set $k4 (i32.shl (i32.and (local.get $k) (i32.const -4)) (i32.const 2)))
    (local.set $va (f32x4.splat (local.get $alpha)))
    (local.set $vb (f32x4.splat (local.get $beta)))
    (block $idone
      (loop $il
        (br_if $idone (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $two (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $m)))
        (local.set $a0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))))
        (local.set $a1 (select (i32.add (local.get $a0) (local.get $lda)) (local.get $a0) (local.get $two)))
        (local.set $j (i32.const 0))
        (block $jdone
          (loop $jl
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $w (i32.sub (local.get $n) (local.get $j)))
            (if (i32.gt_u (local.get $w) (i32.const 4)) (then (local.set $w (i32.const 4))))
            (local.set $b0 (i32.add (local.get $bt) (i32.mul (local.get $j) (local.get $ldb))))
            (if (i32.le_u (local.get $w) (i32.const 2))
              (then
                ;; one or two columns left: two accumulators per row instead of four (same sums)
                (local.set $b1 (select (i32.add (local.get $b0) (local.get $ldb)) (local.get $b0) (i32.gt_u (local.get $w) (i32.const 1))))
                (local.set $s00 (v128.const i32x4 0 0 0 0)) (local.set $s01 (v128.const i32x4 0 0 0 0))
                (local.set $s10 (v128.const i32x4 0 0 0 0)) (local.set $s11 (v128.const i32x4 0 0 0 0))
                (local.set $p (i32.const 0))
                (block $qdone
                  (loop $ql
                    (br_if $qdone (i32.ge_u (local.get $p) (local.get $k4)))
                    (local.set $x0 (v128.load (i32.add (local.get $a0) (local.get $p))))
                    (local.set $x1 (v128.load (i32.add (local.get $a1) (local.get $p))))
                    (local.set $r (v128.load (i32.add (local.get $b0) (local.get $p))))
                    (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $x0) (local.get $r))))
                    (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $x1) (local.get $r))))
                    (local.set $r (v128.load (i32.add (local.get $b1) (local.get $p))))
                    (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $x0) (local.get $r))))
                    (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $x1) (local.get $r))))
                    (local.set $p (i32.add (local.get $p) (i32.const 16)))
                    (br $ql)))
                (block $udone
                  (loop $ul
                    (br_if $udone (i32.ge_u (local.get $p) (i32.shl (local.get $k) (i32.const 2))))
                    (local.set $x0 (v128.load32_zero (i32.add (local.get $a0) (local.get $p))))
                    (local.set $x1 (v128.load32_zero (i32.add (local.get $a1) (local.get $p))))
                    (local.set $r (v128.load32_zero (i32.add (local.get $b0) (local.get $p))))
                    (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $x0) (local.get $r))))
                    (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $x1) (local.get $r))))
                    (local.set $r (v128.load32_zero (i32.add (local.get $b1) (local.get $p))))
                    (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $x0) (local.get $r))))
                    (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $x1) (local.get $r))))
                    (local.set $p (i32.add (local.get $p) (i32.const 4)))
                    (br $ul)))
                (local.set $s02 (local.get $s01)) (local.set $s03 (local.get $s01))
                (local.set $s12 (local.get $s11)) (local.set $s13 (local.get $s11)))
              (else
                (local.set $b1 (select (i32.add (local.get $b0) (local.get $ldb)) (local.get $b0) (i32.gt_u (local.get $w) (i32.const 1))))
                (local.set $b2 (select (i32.add (local.get $b1) (local.get $ldb)) (local.get $b1) (i32.gt_u (local.get $w) (i32.const 2))))
                (local.set $b3 (select (i32.add (local.get $b2) (local.get $ldb)) (local.get $b2) (i32.gt_u (local.get $w) (i32.const 3))))
                (local.set $s00 (v128.const i32x4 0 0 0 0)) (local.set $s01 (v128.const i32x4 0 0 0 0))
                (local.set $s02 (v128.const i32x4 0 0 0 0)) (local.set $s03 (v128.const i32x4 0 0 0 0))
                (local.set $s10 (v128.const i32x4 0 0 0 0)) (local.set $s11 (v128.const i32x4 0 0 0 0))
                (local.set $s12 (v128.const i32x4 0 0 0 0)) (local.set $s13 (v128.const i32x4 0 0 0 0))
                (local.set $p (i32.const 0))
                (block $pdone
                  (loop $pl
                    (br_if $pdone (i32.ge_u (local.get $p) (local.get $k4)))
                    (local.set $x0 (v128.load (i32.add (local.get $a0) (local.get $p))))
                    (local.set $x1 (v128.load (i32.add (local.get $a1) (local.get $p))))
                    (local.set $r (v128.load (i32.add (local.get $b0) (local.get $p))))
                    (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $x0) (local.get $r))))
                    (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $x1) (local.get $r))))
                    (local.set $r (v128.load (i32.add (local.get $b1) (local.get $p))))
                    (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $x0) (local.get $r))))
                    (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $x1) (local.get $r))))
                    (local.set $r (v128.load (i32.add (local.get $b2) (local.get $p))))
                    (local.set $s02 (f32x4.add (local.get $s02) (f32x4.mul (local.get $x0) (local.get $r))))
                    (local.set $s12 (f32x4.add (local.get $s12) (f32x4.mul (local.get $x1) (local.get $r))))
                    (local.set $r (v128.load (i32.add (local.get $b3) (local.get $p))))
                    (local.set $s03 (f32x4.add (local.get $s03) (f32x4.mul (local.get $x0) (local.get $r))))
                    (local.set $s13 (f32x4.add (local.get $s13) (f32x4.mul (local.get $x1) (local.get $r))))
                    (local.set $p (i32.add (local.get $p) (i32.const 16)))
                    (br $pl)))
                ;; p is in bytes here; the last k mod 4 entries one at a time, in lane 0
                (local.set $p (local.get $k4))
                (block $tdone
                  (loop $tl
                    (br_if $tdone (i32.ge_u (local.get $p) (i32.shl (local.get $k) (i32.const 2))))
                    (local.set $x0 (v128.load32_zero (i32.add (local.get $a0) (local.get $p))))
                    (local.set $x1 (v128.load32_zero (i32.add (local.get $a1) (local.get $p))))
                    (local.set $r (v128.load32_zero (i32.add (local.get $b0) (local.get $p))))
                    (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $x0) (local.get $r))))
                    (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $x1) (local.get $r))))
                    (local.set $r (v128.load32_zero (i32.add (local.get $b1) (local.get $p))))
                    (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $x0) (local.get $r))))
                    (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $x1) (local.get $r))))
                    (local.set $r (v128.load32_zero (i32.add (local.get $b2) (local.get $p))))
                    (local.set $s02 (f32x4.add (local.get $s02) (f32x4.mul (local.get $x0) (local.get $r))))
                    (local.set $s12 (f32x4.add (local.get $s12) (f32x4.mul (local.get $x1) (local.get $r))))
                    (local.set $r (v128.load32_zero (i32.add (local.get $b3) (local.get $p))))
                    (local.set $s03 (f32x4.add (local.get $s03) (f32x4.mul (local.get $x0) (local.get $r))))
                    (local.set $s13 (f32x4.add (local.get $s13) (f32x4.mul (local.get $x1) (local.get $r))))
                    (local.set $p (i32.add (local.get $p) (i32.const 4)))
                    (br $tl)))))
            (local.set $cp (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $r (f32x4.mul (local.get $va) (call $hsum4 (local.get $s00) (local.get $s01) (local.get $s02) (local.get $s03))))
            (if (f32.ne (local.get $beta) (f32.const 0))
              (then (local.set $r (f32x4.add (local.get $r) (f32x4.mul (local.get $vb) (call $load_part (local.get $cp) (local.get $w)))))))
            (call $store_part (local.get $cp) (local.get $r) (local.get $w))
            (if (local.get $two)
              (then
                (local.set $cp (i32.add (local.get $cp) (local.get $ldc)))
                (local.set $r (f32x4.mul (local.get $va) (call $hsum4 (local.get $s10) (local.get $s11) (local.get $s12) (local.get $s13))))
                (if (f32.ne (local.get $beta) (f32.const 0))
                  (then (local.set $r (f32x4.add (local.get $r) (f32x4.mul (local.get $vb) (call $load_part (local.get $cp) (local.get $w)))))))
                (call $store_part (local.get $cp) (local.get $r) (local.get $w))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $jl)))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $il))))

  ;; ------------------------------------------------------------------ fused passes
  ;; Each does in one pass what a fixed sequence of the kernels above does in several, with
  ;; the same operations in the same order, so the results are bit-identical.

  ;; The state gradient's tail for the hard sigmoid: da = rho'(s) (1 on [0, 1], else 0),
  ;; o = s - da (.) o  (activate deriv, mul, axpby(1, s, -1, o)).
  (func (export "grad_hsig") (param $s i32) (param $o i32) (param $da i32) (param $n i32)
    (local $vend i32) (local $end i32) (local $x v128) (local $d v128) (local $xs f32) (local $ds f32)
    (local.set $vend (i32.add (local.get $o) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $end (i32.add (local.get $o) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $v
        (br_if $done (i32.ge_u (local.get $o) (local.get $vend)))
        (local.set $x (v128.load (local.get $s)))
        (local.set $d (v128.and (v128.and (f32x4.ge (local.get $x) (v128.const f32x4 0 0 0 0))
                                          (f32x4.le (local.get $x) (v128.const f32x4 1 1 1 1)))
                                (v128.const f32x4 1 1 1 1)))
        (v128.store (local.get $da) (local.get $d))
        (v128.store (local.get $o) (f32x4.sub (local.get $x) (f32x4.mul (local.get $d) (v128.load (local.get $o)))))
        (local.set $s (i32.add (local.get $s) (i32.const 16)))
        (local.set $da (i32.add (local.get $da) (i32.const 16)))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $v)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $xs (f32.load (local.get $s)))
        (local.set $ds (select (f32.const 1) (f32.const 0)
          (i32.and (f32.ge (local.get $xs) (f32.const 0)) (f32.le (local.get $xs) (f32.const 1)))))
        (f32.store (local.get $da) (local.get $ds))
        (f32.store (local.get $o) (f32.sub (local.get $xs) (f32.mul (local.get $ds) (f32.load (local.get $o)))))
        (local.set $s (i32.add (local.get $s) (i32.const 4)))
        (local.set $da (i32.add (local.get $da) (i32.const 4)))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $l))))

  ;; The leaky step: w = rho(w) - s, next = s + dt (.) w, dt (1 x cols) broadcast over the
  ;; rows (activate(w, w), axpby(1, w, -1, s, w), euler(s, w, dt, next)).
  (func (export "leaky") (param $kind i32) (param $w i32) (param $s i32) (param $dt i32) (param $next i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $d i32) (local $vend i32) (local $end i32) (local $x v128) (local $sv v128) (local $t v128)
    (block $rdone
      (loop $row
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $d (local.get $dt))
        (local.set $vend (i32.add (local.get $w) (i32.shl (i32.and (local.get $cols) (i32.const -4)) (i32.const 2))))
        (local.set $end (i32.add (local.get $w) (i32.shl (local.get $cols) (i32.const 2))))
        (block $done
          (loop $v
            (br_if $done (i32.ge_u (local.get $w) (local.get $vend)))
            (local.set $x (v128.load (local.get $w)))
            (if (i32.eqz (local.get $kind))
              (then (local.set $x (f32x4.pmin (f32x4.pmax (local.get $x) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))))
              (else (local.set $x (call $act4 (local.get $kind) (local.get $x)))))
            (local.set $sv (v128.load (local.get $s)))
            (local.set $x (f32x4.sub (local.get $x) (local.get $sv)))
            (v128.store (local.get $w) (local.get $x))
            (v128.store (local.get $next) (f32x4.add (local.get $sv) (f32x4.mul (v128.load (local.get $d)) (local.get $x))))
            (local.set $w (i32.add (local.get $w) (i32.const 16)))
            (local.set $s (i32.add (local.get $s) (i32.const 16)))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (local.set $next (i32.add (local.get $next) (i32.const 16)))
            (br $v)))
        (block $done
          (loop $l
            (br_if $done (i32.ge_u (local.get $w) (local.get $end)))
            (local.set $t (call $act4 (local.get $kind) (v128.load32_zero (local.get $w))))
            (local.set $t (f32x4.sub (local.get $t) (v128.load32_zero (local.get $s))))
            (f32.store (local.get $w) (f32x4.extract_lane 0 (local.get $t)))
            (f32.store (local.get $next) (f32.add (f32.load (local.get $s)) (f32.mul (f32.load (local.get $d)) (f32x4.extract_lane 0 (local.get $t)))))
            (local.set $w (i32.add (local.get $w) (i32.const 4)))
            (local.set $s (i32.add (local.get $s) (i32.const 4)))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (local.set $next (i32.add (local.get $next) (i32.const 4)))
            (br $l)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; ------------------------------------------------------------------ copies

  ;; dst = src (n floats; the ranges do not overlap).
  (func (export "copy") (param $src i32) (param $dst i32) (param $n i32)
    (memory.copy (local.get $dst) (local.get $src) (i32.shl (local.get $n) (i32.const 2))))

  ;; n floats at dst set to value.
  (func (export "fill") (param $dst i32) (param $n i32) (param $value f32)
    (local $v v128) (local $vend i32) (local $end i32)
    (local.set $v (f32x4.splat (local.get $value)))
    (local.set $vend (i32.add (local.get $dst) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $dst) (local.get $vend)))
      (v128.store (local.get $dst) (local.get $v))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (br $l)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
      (f32.store (local.get $dst) (local.get $value))
      (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
      (br $l))))

  ;; Every row of o (rows x cols) set to the 1 x cols vector v.
  (func (export "broadcast") (param $v i32) (param $o i32) (param $rows i32) (param $cols i32)
    (local $bytes i32)
    (local.set $bytes (i32.shl (local.get $cols) (i32.const 2)))
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $rows)))
      (memory.copy (local.get $o) (local.get $v) (local.get $bytes))
      (local.set $o (i32.add (local.get $o) (local.get $bytes)))
      (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
      (br $l))))

  ;; ------------------------------------------------------------------ sparse left factors

  ;; Compresses each row of A (m x k, leading dimension lda floats) to its nonzero entries:
  ;; row i's entries go to list + 8 k i as (byte offset p ldb 4 of row p of B, A[i, p]) pairs,
  ;; their count to cnt + 4 i. Groups of 4 zeros are skipped at once (pixels and states
  ;; come in runs of zeros); inside a group, the store is unconditional and the count moves
  ;; by (A[i, p] != 0), so there is no branch to mispredict. Returns the total count.
  (func (export "compress") (param $a i32) (param $m i32) (param $k i32) (param $lda i32) (param $ldb i32) (param $cnt i32) (param $list i32) (result i32)
    (local $i i32) (local $p i32) (local $k4 i32) (local $ap i32) (local $e i32) (local $n i32) (local $total i32) (local $v f32) (local $off i32) (local $j i32)
    (local.set $k4 (i32.and (local.get $k) (i32.const -4)))
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (block $idone (loop $il
      (br_if $idone (i32.ge_u (local.get $i) (local.get $m)))
      (local.set $ap (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $lda)) (i32.const 2))))
      (local.set $e (i32.add (local.get $list) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 3))))
      (local.set $n (i32.const 0))
      (local.set $p (i32.const 0))
      (local.set $off (i32.const 0))
      (block $gdone (loop $gl
        (br_if $gdone (i32.ge_u (local.get $p) (local.get $k4)))
        (if (v128.any_true (f32x4.ne (v128.load (local.get $ap)) (v128.const i32x4 0 0 0 0)))
          (then
            (local.set $j (i32.const 0))
            (block $jd (loop $jl
              (local.set $v (f32.load (i32.add (local.get $ap) (i32.shl (local.get $j) (i32.const 2)))))
              (i32.store (i32.add (local.get $e) (i32.shl (local.get $n) (i32.const 3))) (local.get $off))
              (f32.store offset=4 (i32.add (local.get $e) (i32.shl (local.get $n) (i32.const 3))) (local.get $v))
              (local.set $n (i32.add (local.get $n) (f32.ne (local.get $v) (f32.const 0))))
              (local.set $off (i32.add (local.get $off) (local.get $ldb)))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br_if $jl (i32.lt_u (local.get $j) (i32.const 4))))))
          (else (local.set $off (i32.add (local.get $off) (i32.shl (local.get $ldb) (i32.const 2))))))
        (local.set $ap (i32.add (local.get $ap) (i32.const 16)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $gl)))
      (block $tdone (loop $tl
        (br_if $tdone (i32.ge_u (local.get $p) (local.get $k)))
        (local.set $v (f32.load (local.get $ap)))
        (i32.store (i32.add (local.get $e) (i32.shl (local.get $n) (i32.const 3))) (local.get $off))
        (f32.store offset=4 (i32.add (local.get $e) (i32.shl (local.get $n) (i32.const 3))) (local.get $v))
        (local.set $n (i32.add (local.get $n) (f32.ne (local.get $v) (f32.const 0))))
        (local.set $off (i32.add (local.get $off) (local.get $ldb)))
        (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $tl)))
      (i32.store (i32.add (local.get $cnt) (i32.shl (local.get $i) (i32.const 2))) (local.get $n))
      (local.set $total (i32.add (local.get $total) (local.get $n)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $il)))
    (local.get $total))

  ;; C (m x n) = alpha A B + beta C with A given by `compress` (cnt, list, k entries per row).
  ;; The columns up to the last multiple of 32: panels of 24 (then 8) columns held in
  ;; registers over a row's nonzero entries, C = alpha sum + beta C. The last n mod 32
  ;; columns: C scaled by beta first, then the terms (alpha a) b added to it in order, in
  ;; registers 4 vectors or 1 at a time, the last n mod 4 columns in memory. Six
  ;; accumulators, not eight: with eight the engine keeps one on the stack.
  (func (export "gemm_sparse") (param $cnt i32) (param $list i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32)
        (param $ldc i32) (param $alpha f32) (param $beta f32)
    (local $i i32) (local $j0 i32) (local $e i32) (local $e0 i32) (local $end i32) (local $bp i32) (local $cp i32) (local $s v128) (local $va v128) (local $vb v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $c4 v128) (local $c5 v128)
    (local $n32 i32) (local $btail i32) (local $crow i32) (local $vend i32) (local $cend i32) (local $q i32) (local $av f32)
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $va (f32x4.splat (local.get $alpha)))
    (local.set $vb (f32x4.splat (local.get $beta)))
    (local.set $n32 (i32.and (local.get $n) (i32.const -32)))
    (block $p6done (loop $p6l
      (br_if $p6done (i32.gt_s (i32.add (local.get $j0) (i32.const 24)) (local.get $n32)))
      (local.set $i (i32.const 0))
      (block $i6done (loop $i6l
        (br_if $i6done (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $c0 (v128.const i32x4 0 0 0 0)) (local.set $c1 (v128.const i32x4 0 0 0 0)) (local.set $c2 (v128.const i32x4 0 0 0 0)) (local.set $c3 (v128.const i32x4 0 0 0 0)) (local.set $c4 (v128.const i32x4 0 0 0 0)) (local.set $c5 (v128.const i32x4 0 0 0 0))
        (local.set $e (i32.add (local.get $list) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 3))))
        (local.set $end (i32.add (local.get $e) (i32.shl (i32.load (i32.add (local.get $cnt) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 3))))
        (block $e6done (loop $e6l
          (br_if $e6done (i32.ge_u (local.get $e) (local.get $end)))
          (local.set $bp (i32.add (i32.add (local.get $b) (i32.load (local.get $e))) (i32.shl (local.get $j0) (i32.const 2))))
          (local.set $s (v128.load32_splat offset=4 (local.get $e)))
          (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $bp)))))
          (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $bp)))))
          (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $bp)))))
          (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (v128.load offset=48 (local.get $bp)))))
          (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $s) (v128.load offset=64 (local.get $bp)))))
          (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $s) (v128.load offset=80 (local.get $bp)))))
          (local.set $e (i32.add (local.get $e) (i32.const 8)))
          (br $e6l)))
        (local.set $cp (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))) (i32.shl (local.get $j0) (i32.const 2))))
        (if (f32.eq (local.get $beta) (f32.const 0))
          (then
            (v128.store offset=0 (local.get $cp) (f32x4.mul (local.get $va) (local.get $c0)))
            (v128.store offset=16 (local.get $cp) (f32x4.mul (local.get $va) (local.get $c1)))
            (v128.store offset=32 (local.get $cp) (f32x4.mul (local.get $va) (local.get $c2)))
            (v128.store offset=48 (local.get $cp) (f32x4.mul (local.get $va) (local.get $c3)))
            (v128.store offset=64 (local.get $cp) (f32x4.mul (local.get $va) (local.get $c4)))
            (v128.store offset=80 (local.get $cp) (f32x4.mul (local.get $va) (local.get $c5))))
          (else
            (v128.store offset=0 (local.get $cp) (f32x4.add (f32x4.mul (local.get $va) (local.get $c0)) (f32x4.mul (local.get $vb) (v128.load offset=0 (local.get $cp)))))
            (v128.store offset=16 (local.get $cp) (f32x4.add (f32x4.mul (local.get $va) (local.get $c1)) (f32x4.mul (local.get $vb) (v128.load offset=16 (local.get $cp)))))
            (v128.store offset=32 (local.get $cp) (f32x4.add (f32x4.mul (local.get $va) (local.get $c2)) (f32x4.mul (local.get $vb) (v128.load offset=32 (local.get $cp)))))
            (v128.store offset=48 (local.get $cp) (f32x4.add (f32x4.mul (local.get $va) (local.get $c3)) (f32x4.mul (local.get $vb) (v128.load offset=48 (local.get $cp)))))
            (v128.store offset=64 (local.get $cp) (f32x4.add (f32x4.mul (local.get $va) (local.get $c4)) (f32x4.mul (local.get $vb) (v128.load offset=64 (local.get $cp)))))
            (v128.store offset=80 (local.get $cp) (f32x4.add (f32x4.mul (local.get $va) (local.get $c5)) (f32x4.mul (local.get $vb) (v128.load offset=80 (local.get $cp)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $i6l)))
      (local.set $j0 (i32.add (local.get $j0) (i32.const 24)))
      (br $p6l)))
    (block $p2done (loop $p2l
      (br_if $p2done (i32.gt_s (i32.add (local.get $j0) (i32.const 8)) (local.get $n32)))
      (local.set $i (i32.const 0))
      (block $i2done (loop $i2l
        (br_if $i2done (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $c0 (v128.const i32x4 0 0 0 0)) (local.set $c1 (v128.const i32x4 0 0 0 0))
        (local.set $e (i32.add (local.get $list) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 3))))
        (local.set $end (i32.add (local.get $e) (i32.shl (i32.load (i32.add (local.get $cnt) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 3))))
        (block $e2done (loop $e2l
          (br_if $e2done (i32.ge_u (local.get $e) (local.get $end)))
          (local.set $bp (i32.add (i32.add (local.get $b) (i32.load (local.get $e))) (i32.shl (local.get $j0) (i32.const 2))))
          (local.set $s (v128.load32_splat offset=4 (local.get $e)))
          (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $bp)))))
          (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $bp)))))
          (local.set $e (i32.add (local.get $e) (i32.const 8)))
          (br $e2l)))
        (local.set $cp (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))) (i32.shl (local.get $j0) (i32.const 2))))
        (if (f32.eq (local.get $beta) (f32.const 0))
          (then
            (v128.store offset=0 (local.get $cp) (f32x4.mul (local.get $va) (local.get $c0)))
            (v128.store offset=16 (local.get $cp) (f32x4.mul (local.get $va) (local.get $c1))))
          (else
            (v128.store offset=0 (local.get $cp) (f32x4.add (f32x4.mul (local.get $va) (local.get $c0)) (f32x4.mul (local.get $vb) (v128.load offset=0 (local.get $cp)))))
            (v128.store offset=16 (local.get $cp) (f32x4.add (f32x4.mul (local.get $va) (local.get $c1)) (f32x4.mul (local.get $vb) (v128.load offset=16 (local.get $cp)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $i2l)))
      (local.set $j0 (i32.add (local.get $j0) (i32.const 8)))
      (br $p2l)))
    ;; the last n - n32 (< 32) columns: per row, scale by beta, then the entries in order
    (if (i32.lt_s (local.get $n32) (local.get $n))
      (then
        ;; B's columns from n32 on: an entry's row of them starts at btail + its row offset
        (local.set $btail (i32.add (local.get $b) (i32.shl (local.get $n32) (i32.const 2))))
        (local.set $i (i32.const 0))
        (block $idone (loop $il
          (br_if $idone (i32.ge_u (local.get $i) (local.get $m)))
          (local.set $crow (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))) (i32.shl (local.get $n32) (i32.const 2))))
          (local.set $cend (i32.add (local.get $crow) (i32.shl (i32.sub (local.get $n) (local.get $n32)) (i32.const 2))))
          (local.set $vend (i32.add (local.get $crow) (i32.shl (i32.and (i32.sub (local.get $n) (local.get $n32)) (i32.const -4)) (i32.const 2))))
          (local.set $q (local.get $crow))
          (block $d (loop $l
            (br_if $d (i32.ge_u (local.get $q) (local.get $cend)))
            (if (f32.eq (local.get $beta) (f32.const 0))
              (then (f32.store (local.get $q) (f32.const 0)))
              (else (f32.store (local.get $q) (f32.mul (local.get $beta) (f32.load (local.get $q))))))
            (local.set $q (i32.add (local.get $q) (i32.const 4)))
            (br $l)))
          (local.set $e0 (i32.add (local.get $list) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 3))))
          (local.set $end (i32.add (local.get $e0) (i32.shl (i32.load (i32.add (local.get $cnt) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 3))))
          (local.set $q (local.get $crow))
          (block $t4done (loop $t4l
            (br_if $t4done (i32.gt_u (i32.add (local.get $q) (i32.const 64)) (local.get $vend)))
            (local.set $c0 (v128.load offset=0 (local.get $q)))
            (local.set $c1 (v128.load offset=16 (local.get $q)))
            (local.set $c2 (v128.load offset=32 (local.get $q)))
            (local.set $c3 (v128.load offset=48 (local.get $q)))
            (local.set $e (local.get $e0))
            (block $u4done (loop $u4l
              (br_if $u4done (i32.ge_u (local.get $e) (local.get $end)))
              (local.set $s (f32x4.splat (f32.mul (local.get $alpha) (f32.load offset=4 (local.get $e)))))
              (local.set $bp (i32.add (i32.add (local.get $btail) (i32.load (local.get $e))) (i32.sub (local.get $q) (local.get $crow))))
              (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $bp)))))
              (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $bp)))))
              (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $bp)))))
              (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $s) (v128.load offset=48 (local.get $bp)))))
              (local.set $e (i32.add (local.get $e) (i32.const 8)))
              (br $u4l)))
            (v128.store offset=0 (local.get $q) (local.get $c0))
            (v128.store offset=16 (local.get $q) (local.get $c1))
            (v128.store offset=32 (local.get $q) (local.get $c2))
            (v128.store offset=48 (local.get $q) (local.get $c3))
            (local.set $q (i32.add (local.get $q) (i32.const 64)))
            (br $t4l)))
          (block $t1done (loop $t1l
            (br_if $t1done (i32.gt_u (i32.add (local.get $q) (i32.const 16)) (local.get $vend)))
            (local.set $c0 (v128.load offset=0 (local.get $q)))
            (local.set $e (local.get $e0))
            (block $u1done (loop $u1l
              (br_if $u1done (i32.ge_u (local.get $e) (local.get $end)))
              (local.set $s (f32x4.splat (f32.mul (local.get $alpha) (f32.load offset=4 (local.get $e)))))
              (local.set $bp (i32.add (i32.add (local.get $btail) (i32.load (local.get $e))) (i32.sub (local.get $q) (local.get $crow))))
              (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $bp)))))
              (local.set $e (i32.add (local.get $e) (i32.const 8)))
              (br $u1l)))
            (v128.store offset=0 (local.get $q) (local.get $c0))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (br $t1l)))
          (local.set $e (local.get $e0))
          (block $edone (loop $el
            (br_if $edone (i32.ge_u (local.get $e) (local.get $end)))
            (local.set $av (f32.mul (local.get $alpha) (f32.load offset=4 (local.get $e))))
            (local.set $bp (i32.add (i32.add (local.get $btail) (i32.load (local.get $e))) (i32.sub (local.get $vend) (local.get $crow))))
            (local.set $q (local.get $vend))
            (block $d (loop $l
              (br_if $d (i32.ge_u (local.get $q) (local.get $cend)))
              (f32.store (local.get $q) (f32.add (f32.load (local.get $q)) (f32.mul (local.get $av) (f32.load (local.get $bp)))))
              (local.set $q (i32.add (local.get $q) (i32.const 4)))
              (local.set $bp (i32.add (local.get $bp) (i32.const 4)))
              (br $l)))
            (local.set $e (i32.add (local.get $e) (i32.const 8)))
            (br $el)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $il))))))

  ;; max |a[i] - b[i]| over n floats (NaN if any difference is NaN).
  (func (export "maxabsdiff") (param $a i32) (param $b i32) (param $n i32) (result f32)
    (local $i i32) (local $m v128) (local $r f32)
    (block $done (loop $l
      (br_if $done (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
      (local.set $m (f32x4.max (local.get $m) (f32x4.abs (f32x4.sub (v128.load (local.get $a)) (v128.load (local.get $b))))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (i32.const 16)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
    (local.set $r (f32.max (f32.max (f32x4.extract_lane 0 (local.get $m)) (f32x4.extract_lane 1 (local.get $m)))
                           (f32.max (f32x4.extract_lane 2 (local.get $m)) (f32x4.extract_lane 3 (local.get $m)))))
    (block $done (loop $l
      (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
      (local.set $r (f32.max (local.get $r) (f32.abs (f32.sub (f32.load (local.get $a)) (f32.load (local.get $b))))))
      (local.set $a (i32.add (local.get $a) (i32.const 4)))
      (local.set $b (i32.add (local.get $b) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $r))

  ;; max |g[i]| over the n entries not held at a bound of [lo, hi] (s[i] <= lo with g[i] > 0,
  ;; or s[i] >= hi with g[i] < 0, are held): the gradient rule's dt-free residual. NaN if a
  ;; g is NaN (a NaN is never held, and max propagates it).
  (func (export "heldmaxabs") (param $s i32) (param $g i32) (param $n i32) (param $lo f32) (param $hi f32) (result f32)
    (local $i i32) (local $m v128) (local $x v128) (local $v v128) (local $vlo v128) (local $vhi v128) (local $z v128)
    (local $r f32) (local $xs f32) (local $gs f32)
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (block $done (loop $l
      (br_if $done (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
      (local.set $x (v128.load (local.get $s)))
      (local.set $v (v128.load (local.get $g)))
      (local.set $m (f32x4.max (local.get $m)
        (v128.andnot (f32x4.abs (local.get $v))
          (v128.or (v128.and (f32x4.le (local.get $x) (local.get $vlo)) (f32x4.gt (local.get $v) (local.get $z)))
                   (v128.and (f32x4.ge (local.get $x) (local.get $vhi)) (f32x4.lt (local.get $v) (local.get $z)))))))
      (local.set $s (i32.add (local.get $s) (i32.const 16)))
      (local.set $g (i32.add (local.get $g) (i32.const 16)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
    (local.set $r (f32.max (f32.max (f32x4.extract_lane 0 (local.get $m)) (f32x4.extract_lane 1 (local.get $m)))
                           (f32.max (f32x4.extract_lane 2 (local.get $m)) (f32x4.extract_lane 3 (local.get $m)))))
    (block $done (loop $l
      (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
      (local.set $xs (f32.load (local.get $s)))
      (local.set $gs (f32.load (local.get $g)))
      (if (i32.eqz (i32.or (i32.and (f32.le (local.get $xs) (local.get $lo)) (f32.gt (local.get $gs) (f32.const 0)))
                           (i32.and (f32.ge (local.get $xs) (local.get $hi)) (f32.lt (local.get $gs) (f32.const 0)))))
        (then (local.set $r (f32.max (local.get $r) (f32.abs (local.get $gs))))))
      (local.set $s (i32.add (local.get $s) (i32.const 4)))
      (local.set $g (i32.add (local.get $g) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $r))

  ;; grad_hsig followed by the gradient rule's Euler step of the same layer:
  ;; da = rho'(s), o = s - da (.) o, next = min(hi, max(lo, s + (scale dt) (.) o)).
  (func (export "grad_euler_hsig") (param $s i32) (param $o i32) (param $da i32) (param $dt i32) (param $next i32)
        (param $rows i32) (param $cols i32) (param $scale f32) (param $lo f32) (param $hi f32)
    (local $r i32) (local $d i32) (local $vend i32) (local $end i32) (local $x v128) (local $m v128) (local $g v128)
    (local $vs v128) (local $vlo v128) (local $vhi v128) (local $xs f32) (local $ms f32) (local $gs f32)
    (local.set $vs (f32x4.splat (local.get $scale)))
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (block $rdone
      (loop $row
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $d (local.get $dt))
        (local.set $vend (i32.add (local.get $o) (i32.shl (i32.and (local.get $cols) (i32.const -4)) (i32.const 2))))
        (local.set $end (i32.add (local.get $o) (i32.shl (local.get $cols) (i32.const 2))))
        (block $done
          (loop $v
            (br_if $done (i32.ge_u (local.get $o) (local.get $vend)))
            (local.set $x (v128.load (local.get $s)))
            (local.set $m (v128.and (v128.and (f32x4.ge (local.get $x) (v128.const f32x4 0 0 0 0))
                                              (f32x4.le (local.get $x) (v128.const f32x4 1 1 1 1)))
                                    (v128.const f32x4 1 1 1 1)))
            (v128.store (local.get $da) (local.get $m))
            (local.set $g (f32x4.sub (local.get $x) (f32x4.mul (local.get $m) (v128.load (local.get $o)))))
            (v128.store (local.get $o) (local.get $g))
            (v128.store (local.get $next)
              (f32x4.pmin (f32x4.pmax
                (f32x4.add (local.get $x) (f32x4.mul (f32x4.mul (local.get $vs) (v128.load (local.get $d))) (local.get $g)))
                (local.get $vlo)) (local.get $vhi)))
            (local.set $s (i32.add (local.get $s) (i32.const 16)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (local.set $da (i32.add (local.get $da) (i32.const 16)))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (local.set $next (i32.add (local.get $next) (i32.const 16)))
            (br $v)))
        (block $done
          (loop $l
            (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
            (local.set $xs (f32.load (local.get $s)))
            (local.set $ms (select (f32.const 1) (f32.const 0)
              (i32.and (f32.ge (local.get $xs) (f32.const 0)) (f32.le (local.get $xs) (f32.const 1)))))
            (f32.store (local.get $da) (local.get $ms))
            (local.set $gs (f32.sub (local.get $xs) (f32.mul (local.get $ms) (f32.load (local.get $o)))))
            (f32.store (local.get $o) (local.get $gs))
            (local.set $gs (f32.add (local.get $xs) (f32.mul (f32.mul (local.get $scale) (f32.load (local.get $d))) (local.get $gs))))
            ;; pmin/pmax order as in the vector loop: NaN passes through
            (if (f32.lt (local.get $gs) (local.get $lo)) (then (local.set $gs (local.get $lo))))
            (if (f32.lt (local.get $hi) (local.get $gs)) (then (local.set $gs (local.get $hi))))
            (f32.store (local.get $next) (local.get $gs))
            (local.set $s (i32.add (local.get $s) (i32.const 4)))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))
            (local.set $da (i32.add (local.get $da) (i32.const 4)))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (local.set $next (i32.add (local.get $next) (i32.const 4)))
            (br $l)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))
)
