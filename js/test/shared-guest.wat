;; Test guest for js/nogrow.mjs's shared-memory mode: a shared memory and the
;; part of nogrow's ABI the host module reads (a state block with the
;; generation at +0 and the ABI version at +4, `nogrow_state`,
;; `nogrow_generation`), plus `grow(pages)`, which grows memory and bumps the
;; generation the way nogrow's Signal policy does. Compiled by
;; `cargo xtask build-guests` to target/guests/js-shared.wasm.
(module
  (memory (export "memory") 2 64 shared)
  ;; State block at 256: generation 0, abi_version 1.
  (data (i32.const 260) "\01\00\00\00")

  (func (export "nogrow_state") (result i32) (i32.const 256))
  (func (export "nogrow_generation") (result i32) (i32.atomic.load (i32.const 256)))

  ;; Grows memory by `pages`; on success bumps the generation and writes
  ;; `marker` in the last 4 bytes of the new memory. Returns the old size or -1.
  (func (export "grow") (param $pages i32) (param $marker i32) (result i32)
    (local $old i32)
    (local.set $old (memory.grow (local.get $pages)))
    (if (i32.ne (local.get $old) (i32.const -1))
      (then
        (drop (i32.atomic.rmw.add (i32.const 256) (i32.const 1)))
        (i32.store (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)) (local.get $marker))))
    (local.get $old)))
