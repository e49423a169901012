;; The raw-block decoders of the LZ77 family Spark writes event logs with (LZ4, Snappy, LZF) and
;; LZ4's XXH32 checksum, in WebAssembly (lzWasm.ts; the framings stay in lz4Block.ts, snappyStream.ts
;; and lzf.ts). Twice the speed of the same loops in JavaScript once V8 optimises them (128 MB Spark
;; 2.3-3.5 shapes, LZ4 decode and checksum: 108-140 ms in JS, 50-67 ms here; issue 12): XXH32's
;; multiplies and rotations and eight-byte copies are single instructions here, where JavaScript
;; needs Math.imul, shifts and DataViews. `npm run wasm` assembles this file into lzModule.ts
;; (test/lzWasm.test.ts checks that the two agree).
;;
;; The caller lays a block out in `memory`: the compressed bytes, then the output area, each with 32
;; bytes to spare after it: copies of up to 32 literals, and of matches from at least 8 bytes back,
;; move 8 bytes at a time and may read or write up to 31 bytes past a run. What they overwrite there
;; is written again by the next run, or the block decodes to less than it says and is refused.
;;
;; A decoder returns the bytes written, or a negative code for the damage it found, with errAt (an
;; index into memory) and errValue (the length or offset read there); lzWasm.ts words them:
;;   -1 LZ4: no final literals                       -2 a literal length runs past the end
;;   -3 a match length or a copy is cut off          -4 errValue literals run past the end
;;   -5 more output than the caller's room           -6 LZ4: a match offset is cut off
;;   -7 a match errValue bytes back, before the start of the output
;;   -8 Snappy: (errValue as unsigned) + 1 literals run past the end
(module
  (memory (export "memory") 1)

  ;; Where a decoder found damage (an index into memory) and the length or offset it read there.
  (global $errAt (export "errAt") (mut i32) (i32.const 0))
  (global $errValue (export "errValue") (mut i32) (i32.const 0))

  ;; XXH32 (the xxHash specification's 32-bit variant) of memory[p, p + len), with `seed`.
  (func (export "xxh32") (param $p i32) (param $len i32) (param $seed i32) (result i32)
    (local $end i32) (local $limit i32) (local $h i32)
    (local $v1 i32) (local $v2 i32) (local $v3 i32) (local $v4 i32)
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (if (i32.ge_u (local.get $len) (i32.const 16))
      (then
        (local.set $v1 (i32.add (local.get $seed) (i32.const 0x24234428))) ;; seed + PRIME1 + PRIME2
        (local.set $v2 (i32.add (local.get $seed) (i32.const 0x85ebca77))) ;; seed + PRIME2
        (local.set $v3 (local.get $seed))
        (local.set $v4 (i32.sub (local.get $seed) (i32.const 0x9e3779b1))) ;; seed - PRIME1
        (local.set $limit (i32.sub (local.get $end) (i32.const 16)))
        (loop $stripes
          (local.set $v1 (i32.mul (i32.rotl (i32.add (local.get $v1) (i32.mul (i32.load (local.get $p)) (i32.const 0x85ebca77))) (i32.const 13)) (i32.const 0x9e3779b1)))
          (local.set $v2 (i32.mul (i32.rotl (i32.add (local.get $v2) (i32.mul (i32.load offset=4 (local.get $p)) (i32.const 0x85ebca77))) (i32.const 13)) (i32.const 0x9e3779b1)))
          (local.set $v3 (i32.mul (i32.rotl (i32.add (local.get $v3) (i32.mul (i32.load offset=8 (local.get $p)) (i32.const 0x85ebca77))) (i32.const 13)) (i32.const 0x9e3779b1)))
          (local.set $v4 (i32.mul (i32.rotl (i32.add (local.get $v4) (i32.mul (i32.load offset=12 (local.get $p)) (i32.const 0x85ebca77))) (i32.const 13)) (i32.const 0x9e3779b1)))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $stripes (i32.le_u (local.get $p) (local.get $limit))))
        (local.set $h (i32.add
          (i32.add (i32.rotl (local.get $v1) (i32.const 1)) (i32.rotl (local.get $v2) (i32.const 7)))
          (i32.add (i32.rotl (local.get $v3) (i32.const 12)) (i32.rotl (local.get $v4) (i32.const 18))))))
      (else (local.set $h (i32.add (local.get $seed) (i32.const 0x165667b1))))) ;; seed + PRIME5
    (local.set $h (i32.add (local.get $h) (local.get $len)))
    (block $noWords
      (loop $words
        (br_if $noWords (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $end)))
        (local.set $h (i32.mul (i32.rotl (i32.add (local.get $h) (i32.mul (i32.load (local.get $p)) (i32.const 0xc2b2ae3d))) (i32.const 17)) (i32.const 0x27d4eb2f)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $words)))
    (block $noBytes
      (loop $bytes
        (br_if $noBytes (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $h (i32.mul (i32.rotl (i32.add (local.get $h) (i32.mul (i32.load8_u (local.get $p)) (i32.const 0x165667b1))) (i32.const 11)) (i32.const 0x9e3779b1)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $bytes)))
    (local.set $h (i32.mul (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 15))) (i32.const 0x85ebca77)))
    (local.set $h (i32.mul (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 13))) (i32.const 0xc2b2ae3d)))
    (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 16))))

  ;; Copies `n` literals from memory[s] to memory[d]: eight bytes at a time up to 32 (may move up to
  ;; 31 bytes past them), a bulk copy past that.
  (func $literals (param $s i32) (param $d i32) (param $n i32)
    (if (i32.le_u (local.get $n) (i32.const 32))
      (then
        (i64.store (local.get $d) (i64.load (local.get $s)))
        (i64.store offset=8 (local.get $d) (i64.load offset=8 (local.get $s)))
        (if (i32.gt_u (local.get $n) (i32.const 16))
          (then
            (i64.store offset=16 (local.get $d) (i64.load offset=16 (local.get $s)))
            (i64.store offset=24 (local.get $d) (i64.load offset=24 (local.get $s))))))
      (else (memory.copy (local.get $d) (local.get $s) (local.get $n)))))

  ;; Appends `len` bytes copied from `offset` bytes back (checked by the caller: 0 < offset <= what
  ;; was written) at memory[d], and returns where they end. When offset < len the copy repeats the
  ;; last `offset` bytes, as the formats define it.
  (func $match (param $d i32) (param $offset i32) (param $len i32) (result i32)
    (local $m i32) (local $stop i32)
    (local.set $m (i32.sub (local.get $d) (local.get $offset)))
    (local.set $stop (i32.add (local.get $d) (local.get $len)))
    (if (i32.ge_u (local.get $offset) (i32.const 8))
      (then
        ;; Each load reads only bytes already final: they are at least 8 back. May write 7 past the match.
        (loop $wide
          (i64.store (local.get $d) (i64.load (local.get $m)))
          (local.set $d (i32.add (local.get $d) (i32.const 8)))
          (local.set $m (i32.add (local.get $m) (i32.const 8)))
          (br_if $wide (i32.lt_u (local.get $d) (local.get $stop)))))
      (else
        ;; A match that repeats its last 1-7 bytes.
        (loop $narrow
          (i32.store8 (local.get $d) (i32.load8_u (local.get $m)))
          (local.set $d (i32.add (local.get $d) (i32.const 1)))
          (local.set $m (i32.add (local.get $m) (i32.const 1)))
          (br_if $narrow (i32.lt_u (local.get $d) (local.get $stop))))))
    (local.get $stop))

  ;; The sum of an LZ4 extended length at memory[s]: bytes of 255, then one below 255. Returns the
  ;; index after it and leaves the sum in errValue; -1 when it runs to `end`.
  (func $extended (param $s i32) (param $end i32) (result i32)
    (local $sum i32) (local $more i32)
    (loop $next
      (if (i32.ge_u (local.get $s) (local.get $end)) (then (return (i32.const -1))))
      (local.set $more (i32.load8_u (local.get $s)))
      (local.set $s (i32.add (local.get $s) (i32.const 1)))
      (local.set $sum (i32.add (local.get $sum) (local.get $more)))
      ;; Held below 2^31, where 16 MiB of 255s would wrap it to a small length: more than any block
      ;; holds, so the caller's checks refuse it.
      (if (i32.gt_u (local.get $sum) (i32.const 0x7fffff00)) (then (local.set $sum (i32.const 0x7fffff00))))
      (br_if $next (i32.eq (local.get $more) (i32.const 255))))
    (global.set $errValue (local.get $sum))
    (local.get $s))

  ;; Decodes the raw LZ4 block memory[s, end) into memory[dst, dst + cap) and returns the bytes
  ;; written, or where the block is damaged: a negative code, errAt and errValue (lzWasm.ts words them).
  ;;   -1 no final literals   -2 a literal length runs past the end   -3 a match length runs past the end
  ;;   -4 errValue literals run past the end   -5 more output than cap   -6 a match offset is cut off
  ;;   -7 a match errValue bytes back, before the start of the output
  (func (export "lz4") (param $s i32) (param $end i32) (param $dst i32) (param $cap i32) (result i32)
    (local $d i32) (local $dEnd i32) (local $token i32) (local $lit i32) (local $len i32)
    (local $offset i32)
    (local.set $d (local.get $dst))
    (local.set $dEnd (i32.add (local.get $dst) (local.get $cap)))
    (loop $sequence
      (if (i32.ge_u (local.get $s) (local.get $end)) (then (global.set $errAt (local.get $s)) (return (i32.const -1))))
      (local.set $token (i32.load8_u (local.get $s)))
      (local.set $s (i32.add (local.get $s) (i32.const 1)))
      (local.set $lit (i32.shr_u (local.get $token) (i32.const 4)))
      (if (i32.eq (local.get $lit) (i32.const 15))
        (then
          (local.set $s (call $extended (local.get $s) (local.get $end)))
          (if (i32.lt_s (local.get $s) (i32.const 0)) (then (global.set $errAt (local.get $end)) (return (i32.const -2))))
          (local.set $lit (i32.add (local.get $lit) (global.get $errValue)))))
      (if (local.get $lit)
        (then
          (if (i32.gt_u (local.get $lit) (i32.sub (local.get $end) (local.get $s)))
            (then (global.set $errAt (local.get $s)) (global.set $errValue (local.get $lit)) (return (i32.const -4))))
          (if (i32.gt_u (local.get $lit) (i32.sub (local.get $dEnd) (local.get $d)))
            (then (global.set $errAt (local.get $s)) (return (i32.const -5))))
          (call $literals (local.get $s) (local.get $d) (local.get $lit))
          (local.set $s (i32.add (local.get $s) (local.get $lit)))
          (local.set $d (i32.add (local.get $d) (local.get $lit)))))
      ;; The last sequence of a block is literals only.
      (if (i32.eq (local.get $s) (local.get $end)) (then (return (i32.sub (local.get $d) (local.get $dst)))))
      (if (i32.lt_u (i32.sub (local.get $end) (local.get $s)) (i32.const 2))
        (then (global.set $errAt (local.get $s)) (return (i32.const -6))))
      (local.set $offset (i32.load16_u (local.get $s)))
      (if (i32.or (i32.eqz (local.get $offset)) (i32.gt_u (local.get $offset) (i32.sub (local.get $d) (local.get $dst))))
        (then (global.set $errAt (local.get $s)) (global.set $errValue (local.get $offset)) (return (i32.const -7))))
      (local.set $s (i32.add (local.get $s) (i32.const 2)))
      (local.set $len (i32.and (local.get $token) (i32.const 15)))
      (if (i32.eq (local.get $len) (i32.const 15))
        (then
          (local.set $s (call $extended (local.get $s) (local.get $end)))
          (if (i32.lt_s (local.get $s) (i32.const 0)) (then (global.set $errAt (local.get $end)) (return (i32.const -3))))
          (local.set $len (i32.add (local.get $len) (global.get $errValue)))))
      (local.set $len (i32.add (local.get $len) (i32.const 4)))
      (if (i32.gt_u (local.get $len) (i32.sub (local.get $dEnd) (local.get $d)))
        (then (global.set $errAt (local.get $s)) (return (i32.const -5))))
      (local.set $d (call $match (local.get $d) (local.get $offset) (local.get $len)))
      (br $sequence))
    (unreachable))

  ;; Decodes the raw Snappy elements memory[s, end) (after the block's length preamble, read by the
  ;; caller) into memory[dst, dst + cap).
  (func (export "snappy") (param $s i32) (param $end i32) (param $dst i32) (param $cap i32) (result i32)
    (local $d i32) (local $dEnd i32) (local $tag i32) (local $kind i32) (local $lit i32) (local $n i32)
    (local $len i32) (local $offset i32)
    (local.set $d (local.get $dst))
    (local.set $dEnd (i32.add (local.get $dst) (local.get $cap)))
    (block $done
      (loop $element
        (br_if $done (i32.ge_u (local.get $s) (local.get $end)))
        (local.set $tag (i32.load8_u (local.get $s)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (local.set $kind (i32.and (local.get $tag) (i32.const 3)))
        (if (i32.eqz (local.get $kind))
          (then
            ;; Literals: tag >> 2 is the count less one; 60-63 say it follows in 1-4 bytes.
            (local.set $lit (i32.shr_u (local.get $tag) (i32.const 2)))
            (if (i32.ge_u (local.get $lit) (i32.const 60))
              (then
                (local.set $n (i32.sub (local.get $lit) (i32.const 59)))
                (if (i32.lt_u (i32.sub (local.get $end) (local.get $s)) (local.get $n))
                  (then (global.set $errAt (local.get $s)) (return (i32.const -2))))
                ;; The n bytes, little-endian: a 4-byte load masked to them (the load may read past
                ;; them, within the slack).
                (local.set $lit (i32.and (i32.load (local.get $s))
                  (i32.shr_u (i32.const -1) (i32.shl (i32.sub (i32.const 4) (local.get $n)) (i32.const 3)))))
                (local.set $s (i32.add (local.get $s) (local.get $n)))))
            ;; lit + 1 literals: lit may be 2^32 - 1, so compared before the 1 is added.
            (if (i32.ge_u (local.get $lit) (i32.sub (local.get $end) (local.get $s)))
              (then (global.set $errAt (local.get $s)) (global.set $errValue (local.get $lit)) (return (i32.const -8))))
            (local.set $lit (i32.add (local.get $lit) (i32.const 1)))
            (if (i32.gt_u (local.get $lit) (i32.sub (local.get $dEnd) (local.get $d)))
              (then (global.set $errAt (local.get $s)) (return (i32.const -5))))
            (call $literals (local.get $s) (local.get $d) (local.get $lit))
            (local.set $s (i32.add (local.get $s) (local.get $lit)))
            (local.set $d (i32.add (local.get $d) (local.get $lit)))
            (br $element)))
        (if (i32.eq (local.get $kind) (i32.const 1))
          (then
            (if (i32.ge_u (local.get $s) (local.get $end)) (then (global.set $errAt (local.get $s)) (return (i32.const -3))))
            (local.set $len (i32.add (i32.and (i32.shr_u (local.get $tag) (i32.const 2)) (i32.const 7)) (i32.const 4)))
            (local.set $offset (i32.or (i32.shl (i32.shr_u (local.get $tag) (i32.const 5)) (i32.const 8)) (i32.load8_u (local.get $s))))
            (local.set $s (i32.add (local.get $s) (i32.const 1))))
          (else
            (local.set $len (i32.add (i32.shr_u (local.get $tag) (i32.const 2)) (i32.const 1)))
            (if (i32.eq (local.get $kind) (i32.const 2))
              (then
                (if (i32.lt_u (i32.sub (local.get $end) (local.get $s)) (i32.const 2)) (then (global.set $errAt (local.get $s)) (return (i32.const -3))))
                (local.set $offset (i32.load16_u (local.get $s)))
                (local.set $s (i32.add (local.get $s) (i32.const 2))))
              (else
                (if (i32.lt_u (i32.sub (local.get $end) (local.get $s)) (i32.const 4)) (then (global.set $errAt (local.get $s)) (return (i32.const -3))))
                (local.set $offset (i32.load (local.get $s)))
                (local.set $s (i32.add (local.get $s) (i32.const 4)))))))
        (if (i32.or (i32.eqz (local.get $offset)) (i32.gt_u (local.get $offset) (i32.sub (local.get $d) (local.get $dst))))
          (then (global.set $errAt (local.get $s)) (global.set $errValue (local.get $offset)) (return (i32.const -7))))
        (if (i32.gt_u (local.get $len) (i32.sub (local.get $dEnd) (local.get $d)))
          (then (global.set $errAt (local.get $s)) (return (i32.const -5))))
        (local.set $d (call $match (local.get $d) (local.get $offset) (local.get $len)))
        (br $element)))
    (i32.sub (local.get $d) (local.get $dst)))

  ;; Decodes the LZF data memory[s, end) into memory[dst, dst + cap). A control byte below 32 starts
  ;; ctrl + 1 literals; any other is a back reference of length ctrl >> 5 (7: one more length byte
  ;; follows) plus 2, at an offset of 13 bits plus 1.
  (func (export "lzf") (param $s i32) (param $end i32) (param $dst i32) (param $cap i32) (result i32)
    (local $d i32) (local $dEnd i32) (local $ctrl i32) (local $lit i32) (local $len i32) (local $offset i32)
    (local.set $d (local.get $dst))
    (local.set $dEnd (i32.add (local.get $dst) (local.get $cap)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $s) (local.get $end)))
        (local.set $ctrl (i32.load8_u (local.get $s)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (if (i32.lt_u (local.get $ctrl) (i32.const 32))
          (then
            (local.set $lit (i32.add (local.get $ctrl) (i32.const 1)))
            (if (i32.gt_u (local.get $lit) (i32.sub (local.get $end) (local.get $s)))
              (then (global.set $errAt (local.get $s)) (global.set $errValue (local.get $lit)) (return (i32.const -4))))
            (if (i32.gt_u (local.get $lit) (i32.sub (local.get $dEnd) (local.get $d)))
              (then (global.set $errAt (local.get $s)) (return (i32.const -5))))
            (call $literals (local.get $s) (local.get $d) (local.get $lit))
            (local.set $s (i32.add (local.get $s) (local.get $lit)))
            (local.set $d (i32.add (local.get $d) (local.get $lit)))
            (br $next)))
        (local.set $len (i32.shr_u (local.get $ctrl) (i32.const 5)))
        (if (i32.eq (local.get $len) (i32.const 7))
          (then
            (if (i32.ge_u (local.get $s) (local.get $end)) (then (global.set $errAt (local.get $s)) (return (i32.const -3))))
            (local.set $len (i32.add (local.get $len) (i32.load8_u (local.get $s))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))))
        (if (i32.ge_u (local.get $s) (local.get $end)) (then (global.set $errAt (local.get $s)) (return (i32.const -3))))
        (local.set $offset (i32.add (i32.add (i32.shl (i32.and (local.get $ctrl) (i32.const 0x1f)) (i32.const 8)) (i32.load8_u (local.get $s))) (i32.const 1)))
        (local.set $len (i32.add (local.get $len) (i32.const 2)))
        (if (i32.gt_u (local.get $offset) (i32.sub (local.get $d) (local.get $dst)))
          (then (global.set $errAt (local.get $s)) (global.set $errValue (local.get $offset)) (return (i32.const -7))))
        (if (i32.gt_u (local.get $len) (i32.sub (local.get $dEnd) (local.get $d)))
          (then (global.set $errAt (local.get $s)) (return (i32.const -5))))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (local.set $d (call $match (local.get $d) (local.get $offset) (local.get $len)))
        (br $next)))
    (i32.sub (local.get $d) (local.get $dst)))
)
