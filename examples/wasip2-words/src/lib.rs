//! A `wasm32-wasip2` component that exports a WIT world (`wit/world.wit`)
//! with wit-bindgen, under nogrow's Fail policy with `c-malloc`.
//!
//! Every call crosses the canonical ABI both ways: the host lowers the
//! argument string into the guest through `cabi_realloc`, the generated
//! export takes it as a `String` (and drops it with Rust's `dealloc`), and
//! the returned list of strings is freed by the generated `cabi_post_shout`
//! after the host has read it. `usage` reports the memory size, nogrow's
//! generation and the bytes in use, so the host can check that calls leave
//! nothing behind and memory never grows. The one line after `install!`
//! exports nogrow's WIT interface `nogrow:state/state` too: the host reads
//! the state block, and asks whether a value fits before it passes one in. `tests/wasip2/wasip2_guests.py`
//! calls it from wasmtime and from jco.

nogrow::install!(arena: 4 << 20, policy: Fail);
// The WIT interface `nogrow:state/state`: the host reads the state block and
// the explanation of a failed allocation through the canonical ABI.
nogrow::export_component_state!(NOGROW);

wit_bindgen::generate!({ world: "words", path: "wit" });

struct Words;

impl Guest for Words {
    fn shout(text: String) -> Vec<String> {
        text.split_whitespace().map(str::to_uppercase).collect()
    }

    fn usage() -> (u32, u32, u32) {
        (
            core::arch::wasm32::memory_size(0) as u32,
            NOGROW.generation(),
            NOGROW.stats().in_use as u32,
        )
    }
}

export!(Words);
