//! Greeting guest through wasm-bindgen, under nogrow's Signal policy: proves
//! that nogrow and `js/nogrow.mjs` work alongside wasm-bindgen's generated glue.
//! Strings cross the boundary through the glue (`TextEncoder`/`TextDecoder`
//! over views of linear memory), and `shout_many` builds a `String` large
//! enough to make memory grow.

use wasm_bindgen::prelude::*;

nogrow::install!(arena: 64 << 10, policy: Signal::new().step_pages(4).limit_pages(2048));

/// `"{salutation}, {name}!"`, as in the other greeting guests.
#[wasm_bindgen]
pub fn greet(salutation: &str, name: &str) -> String {
    format!("{}, {}!", salutation, name)
}

/// The greeting for `name`, upper-cased and repeated `times` times, one per
/// line: a large `String` built in the guest and returned to JS.
#[wasm_bindgen]
pub fn shout_many(name: &str, times: u32) -> String {
    let line = format!("AHOY THERE, {}!\n", name.to_uppercase());
    let mut out = String::with_capacity(line.len() * times as usize);
    for _ in 0..times {
        out.push_str(&line);
    }
    out
}

/// Counts the words of `text` by building a `Vec<&str>` of them (an allocation
/// proportional to the input) and returns `"{words} words, {bytes} bytes"`.
#[wasm_bindgen]
pub fn word_stats(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    format!("{} words, {} bytes", words.len(), text.len())
}

/// The generation counter of nogrow's state block (growths seen so far).
#[wasm_bindgen]
pub fn generation() -> u32 {
    NOGROW.generation()
}
