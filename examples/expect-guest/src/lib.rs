//! A wasm-bindgen guest under nogrow that tests its own allocation behaviour
//! with `nogrow::expect`, in `cargo test --target wasm32-unknown-unknown`.
//!
//! The policy is Signal, so memory can grow at all and "never grows" is a
//! property the tests check rather than one the policy guarantees.

use wasm_bindgen::prelude::*;

nogrow::install!(arena: 1 << 20, policy: Signal::new());

/// Reusable output buffer: once it has room, [`Shouter::shout`] allocates
/// nothing.
#[derive(Debug, Default)]
pub struct Shouter {
    out: String,
}

impl Shouter {
    /// `text` in upper case, followed by `!`, in the shouter's own buffer.
    pub fn shout(&mut self, text: &str) -> &str {
        self.out.clear();
        for c in text.chars() {
            self.out.push(c.to_ascii_uppercase());
        }
        self.out.push('!');
        &self.out
    }
}

/// The greeting the host asks for.
#[wasm_bindgen]
pub fn greet(salutation: &str, name: &str) -> String {
    format!("{salutation}, {name}!")
}

/// The most frequent word of `text` and its count (ties: the first in
/// alphabetical order).
#[wasm_bindgen]
pub fn top_word(text: &str) -> String {
    let mut counts = std::collections::BTreeMap::<&str, u32>::new();
    for word in text.split_whitespace() {
        *counts.entry(word).or_default() += 1;
    }
    let mut best: Option<(&str, u32)> = None;
    for (word, n) in counts {
        if best.is_none_or(|(_, m)| n > m) {
            best = Some((word, n));
        }
    }
    best.map(|(w, n)| format!("{w} {n}")).unwrap_or_default()
}

/// A report of `rows` numbered lines.
#[wasm_bindgen]
pub fn report(rows: u32) -> String {
    let mut out = String::new();
    for i in 0..rows {
        out.push_str(&format!("row {i:>8}: {}\n", i.wrapping_mul(2_654_435_761)));
    }
    out
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use nogrow::expect;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn shouting_into_a_warm_buffer_allocates_nothing() {
        let mut shouter = Shouter::default();
        shouter.shout("warm up the buffer once");
        let loud = expect::no_allocations(&NOGROW, || shouter.shout("ahoy there").len());
        assert_eq!(loud, "AHOY THERE!".len());
    }

    #[wasm_bindgen_test]
    fn greeting_never_grows_memory() {
        let pages = core::arch::wasm32::memory_size(0);
        let greeting = expect::no_growth(&NOGROW, || greet("Ahoy there", "Testy McTestface"));
        assert_eq!(greeting, "Ahoy there, Testy McTestface!");
        assert_eq!(core::arch::wasm32::memory_size(0), pages);
    }

    #[wasm_bindgen_test]
    fn top_word_returns_every_byte() {
        let text = "the cat and the hat and the bat ".repeat(200);
        let usage = expect::no_leak(&NOGROW, || top_word(&text));
        assert!(usage.allocs > 0, "it does allocate: {usage}");
        assert_eq!(usage.allocs, usage.frees, "{usage}");
        assert_eq!(top_word(&text), "the 600");
    }

    /// Breaks "never grows memory" on purpose: a 40 000-row report needs more
    /// than the 1 MiB arena, Signal grows memory, and `no_growth` panics with
    /// the numbers. The runner passes the test only if it panics with this
    /// message.
    #[wasm_bindgen_test]
    #[should_panic(expected = "nogrow: expected no memory growth, but memory grew: growths +1")]
    fn a_large_report_grows_memory_and_no_growth_says_so() {
        expect::no_growth(&NOGROW, || report(40_000).len());
    }
}
