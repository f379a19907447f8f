//! `binning::Compact`'s bins, checked against the statement in its docs, on
//! the host and on wasm32 (in Node, `cargo test --target
//! wasm32-unknown-unknown`), where chunk units and the address space differ.

use nogrow::binning::{Binning, Compact};
use talc::base::CHUNK_UNIT;

/// Bins per doubling of chunk size, `[2^e, 2^(e+1))`, as `Compact`'s docs
/// state them: two below 8 KiB, 16 from 8 to 16 KiB, 64 from 16 to 128 KiB,
/// two above up to 2 GiB, one above; never more than the doubling has chunk
/// units.
fn stated_bins_per_doubling(e: u32) -> usize {
    let n = match e {
        ..=12 => 2,
        13 => 16,
        14..=16 => 64,
        17..=30 => 2,
        _ => 1,
    };
    n.min(1 << (e - CHUNK_UNIT.ilog2()))
}

/// The first size of every bin, in order: bin 0 below one chunk unit (talc's
/// own binnings' unused bin), then the doublings' (past talc's last bin on
/// 64-bit targets, which talc folds into its last).
fn stated_bin_starts() -> Vec<usize> {
    let mut starts = vec![0];
    for e in CHUNK_UNIT.ilog2()..usize::BITS {
        let (start, n) = (1usize << e, stated_bins_per_doubling(e));
        starts.extend((0..n).map(|j| start + j * (start / n)));
    }
    starts
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn every_compact_bin_starts_where_stated() {
    let starts = stated_bin_starts();
    if usize::BITS == 32 {
        // Every wasm32 chunk size has a bin of its own in talc's 255.
        assert_eq!(starts.len() as u32, Compact::BIN_COUNT, "wasm32 bins");
    }
    for (bin, &start) in starts.iter().enumerate().skip(1) {
        assert_eq!(start % CHUNK_UNIT, 0, "bin {bin} starts off a chunk unit");
        assert_eq!(
            Compact::size_to_bin(start) as usize,
            bin,
            "bin {bin} at {start}"
        );
        if bin > 1 {
            assert_eq!(
                Compact::size_to_bin(start - CHUNK_UNIT) as usize,
                bin - 1,
                "below bin {bin} at {start}"
            );
        }
    }
    // Below one chunk unit, bin 0, so that talc's search for the smallest
    // chunk starts at bin 1 and its fallback (one bin below) is in range.
    assert_eq!(Compact::size_to_bin(CHUNK_UNIT - 1), 0);
    assert_eq!(Compact::size_to_bin(0), 0);
    assert_eq!(Compact::size_to_bin_ceil(CHUNK_UNIT), 1);
    // The largest size's bin, the last stated.
    assert_eq!(Compact::size_to_bin(usize::MAX) as usize, starts.len() - 1);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(miri, ignore = "walks every chunk size to 1 MiB")]
fn every_chunk_size_to_1_mib_is_in_its_stated_bin_and_ceil_is_tight() {
    let starts = stated_bin_starts();
    for size in (CHUNK_UNIT..=1 << 20).step_by(CHUNK_UNIT) {
        let stated = starts.partition_point(|&s| s <= size) - 1;
        assert_eq!(Compact::size_to_bin(size) as usize, stated, "{size} B");
        // talc searches from `size_to_bin_ceil`: every chunk there fits,
        // and the bin below holds some that do not.
        let ceil = Compact::size_to_bin_ceil(size) as usize;
        assert!(starts[ceil] >= size, "ceil of {size} B");
        assert!(starts[ceil - 1] < size, "ceil of {size} B is not tight");
    }
}
