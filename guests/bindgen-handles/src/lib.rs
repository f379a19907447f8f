//! A wasm-bindgen guest under nogrow's Fail policy that keeps JS values alive
//! in linear memory across calls: `keep` stores a `JsValue` and returns an id,
//! `get` hands it back, `drop_handle` releases it.
//!
//! Every live `JsValue` is a slot in wasm-bindgen's externref table
//! (`__wbindgen_externrefs`). wasm-bindgen 0.2.130 hands out slots from a
//! free list (`Slab` in its `src/externref.rs`) and, when the list is empty,
//! executes `table.grow` by `max(128, slots so far)` and grows the list's
//! `Vec` by as many entries. Memory never grows here (Fail); the table does.
//! [`reserve_handles`] sizes the table up front: it holds `n` values at
//! once and releases them, so the free list keeps `n` or more slots and
//! later allocations up to that many live values neither grow the table nor
//! the list.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

nogrow::install!(arena: 4 << 20, policy: Fail);

/// The kept values: a slot per id, and the ids free for reuse.
#[derive(Default)]
struct Handles {
    slots: Vec<Option<JsValue>>,
    free: Vec<u32>,
    live: u32,
}

thread_local! {
    static HANDLES: RefCell<Handles> = RefCell::new(Handles::default());
}

/// Keeps `value` alive in the guest until [`drop_handle`]; returns its id.
#[wasm_bindgen]
pub fn keep(value: JsValue) -> u32 {
    HANDLES.with_borrow_mut(|h| {
        h.live += 1;
        match h.free.pop() {
            Some(id) => {
                h.slots[id as usize] = Some(value);
                id
            }
            None => {
                h.slots.push(Some(value));
                (h.slots.len() - 1) as u32
            }
        }
    })
}

/// The value kept under `id` (the same JS value), or `undefined` for an id
/// that is not kept.
#[wasm_bindgen]
pub fn get(id: u32) -> JsValue {
    HANDLES.with_borrow(|h| {
        h.slots
            .get(id as usize)
            .and_then(Option::as_ref)
            .cloned()
            .unwrap_or(JsValue::UNDEFINED)
    })
}

/// Releases the value kept under `id`; `false` if it was not kept.
#[wasm_bindgen]
pub fn drop_handle(id: u32) -> bool {
    let dropped = HANDLES.with_borrow_mut(|h| {
        let value = h.slots.get_mut(id as usize).and_then(Option::take)?;
        h.free.push(id);
        h.live -= 1;
        Some(value)
    });
    // The slot of the externref table is released here, outside the borrow.
    dropped.is_some()
}

/// How many values are kept.
#[wasm_bindgen]
pub fn count() -> u32 {
    HANDLES.with_borrow(|h| h.live)
}

/// Sizes wasm-bindgen's externref table for `n` live values: holds `n`
/// values at once (one from JS, cloned in the guest: each clone takes a new
/// slot), then releases them. Afterwards the free list has at least `n`
/// slots, so up to `n` live `JsValue`s need no `table.grow`. Returns the
/// live count of the externref heap afterwards (the values kept before).
#[wasm_bindgen]
pub fn reserve_handles(n: u32) -> u32 {
    if n > 0 {
        let seed = JsValue::from_f64(0.0);
        let held: Vec<JsValue> = (1..n).map(|_| seed.clone()).collect();
        drop(held);
    }
    wasm_bindgen::externref_heap_live_count()
}

/// Live slots of wasm-bindgen's externref heap: the kept values plus any the
/// glue holds.
#[wasm_bindgen]
pub fn live_handles() -> u32 {
    wasm_bindgen::externref_heap_live_count()
}

/// The generation counter of nogrow's state block (growths seen so far).
#[wasm_bindgen]
pub fn generation() -> u32 {
    NOGROW.generation()
}
