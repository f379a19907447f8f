;; The greeting guest written by hand in WebAssembly text: same ABI as the Rust
;; guests, no allocator, so it never grows memory. Compiled by
;; `cargo xtask build-guests` (the `wat` crate) to target/guests/greet-wat.wasm.
(module
  (memory (export "memory") 1)
  ;; Static buffer at 1024: salutation +0 (16 bytes), name +16 (16), message +32 (96).
  (global $buf i32 (i32.const 1024))
  (data (i32.const 2048) ", !")

  (func (export "get_salutation_ptr") (result i32) (global.get $buf))
  (func (export "get_name_ptr") (result i32) (i32.add (global.get $buf) (i32.const 16)))
  (func (export "get_msg_ptr") (result i32) (i32.add (global.get $buf) (i32.const 32)))

  ;; Copies `len` (at most 16) bytes from `src` to `dst`; returns `dst + len`.
  (func $copy (param $dst i32) (param $src i32) (param $len i32) (result i32)
    (local.set $len (select (local.get $len) (i32.const 16) (i32.le_u (local.get $len) (i32.const 16))))
    (memory.copy (local.get $dst) (local.get $src) (local.get $len))
    (i32.add (local.get $dst) (local.get $len)))

  ;; "{salutation}, {name}!" into the message buffer; returns its length.
  (func (export "set_name") (param $sal_len i32) (param $name_len i32) (result i32)
    (local $p i32)
    (local.set $p (call $copy (i32.add (global.get $buf) (i32.const 32)) (global.get $buf) (local.get $sal_len)))
    (local.set $p (call $copy (local.get $p) (i32.const 2048) (i32.const 2)))
    (local.set $p (call $copy (local.get $p) (i32.add (global.get $buf) (i32.const 16)) (local.get $name_len)))
    (local.set $p (call $copy (local.get $p) (i32.const 2050) (i32.const 1)))
    (i32.sub (local.get $p) (i32.add (global.get $buf) (i32.const 32)))))
