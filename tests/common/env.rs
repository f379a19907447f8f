//! Run sizes from the environment (host runs; wasm32 reads them at build time).

/// The seed for a run: `NOGROW_RANDOM_SEED` if set (run time on the host),
/// else `default`.
#[cfg(not(target_arch = "wasm32"))]
pub fn seed(default: u64) -> u64 {
    std::env::var("NOGROW_RANDOM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The op count: `NOGROW_RANDOM_OPS` if set (run time on the host), else `default`.
#[cfg(not(target_arch = "wasm32"))]
pub fn ops(default: u64) -> u64 {
    std::env::var("NOGROW_RANDOM_OPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}
