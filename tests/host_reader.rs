//! `nogrow::host` against the other implementations it must agree with: the
//! allocator that writes `reserve_status`, and the JS module's
//! `describeFailure` (run in Node), which renders the same explanation.
#![cfg(not(target_arch = "wasm32"))]

/// The pad behind every arena here (see its docs: talc's search may form a
/// pointer past the heap's end, which Miri reports).
#[path = "common/regions.rs"]
#[allow(dead_code)]
mod regions;
use regions::TALC_OVERSHOOT_PAD;

use std::process::Command;
use std::sync::atomic::Ordering::Relaxed;

use nogrow::host::{Explanation, RESERVE_STATUS_NONE, RESERVE_STATUS_RESERVED, ReserveState};
use nogrow::{
    Arena, Fail, Failure, Nogrow, PAGE_SIZE, Policy, PolicyKind, Reserve, ReserveError,
    SliceMemory, State,
};

fn make<P: Policy>(policy: P) -> &'static Nogrow<P, SliceMemory> {
    let arena: &'static mut [u8] = vec![0u8; (64 << 10) + TALC_OVERSHOOT_PAD].leak();
    let region: &'static mut [u8] = vec![0u8; 8 * PAGE_SIZE].leak();
    let state: &'static State = Box::leak(Box::new(State::new()));
    // SAFETY: both regions are leaked, so they live for the program and
    // nothing else can name them.
    let (arena, memory) = unsafe {
        (
            Arena::from_raw(arena.as_mut_ptr(), 64 << 10),
            SliceMemory::new(region.as_mut_ptr(), 2, 8),
        )
    };
    Box::leak(Box::new(Nogrow::new(arena, policy, memory, state)))
}

fn status<P: Policy>(a: &Nogrow<P, SliceMemory>) -> ReserveState {
    ReserveState::from_status(a.state().reserve_status.load(Relaxed) as i32)
}

#[test]
fn reserve_status_values_are_the_ones_the_allocator_writes() {
    let a = make(Reserve::pages(2));
    assert_eq!(
        a.state().reserve_status.load(Relaxed) as i32,
        RESERVE_STATUS_NONE
    );
    assert_eq!(status(a), ReserveState::NotYet);
    assert_eq!(a.reserve(0), Ok(2));
    assert_eq!(
        a.state().reserve_status.load(Relaxed) as i32,
        RESERVE_STATUS_RESERVED
    );
    assert_eq!(status(a), ReserveState::Reserved);

    let runtime = make(Reserve::runtime());
    assert_eq!(runtime.reserve(0), Err(ReserveError::NoAmount));
    assert_eq!(
        status(runtime),
        ReserveState::Failed(ReserveError::NoAmount)
    );

    let fail = make(Fail);
    assert_eq!(fail.reserve(1), Err(ReserveError::NotReservePolicy));
    assert_eq!(
        status(fail),
        ReserveState::Failed(ReserveError::NotReservePolicy)
    );
}

/// Failures with numbers of every size, for every policy, Signal with and
/// without a limit, and an unknown policy.
fn cases() -> Vec<Explanation> {
    let failures = [
        Failure {
            size: 2_900_000,
            align: 1,
            in_use: 0,
            heap_bytes: 262_144,
        },
        Failure {
            size: 4_294_967_295,
            align: 4096,
            in_use: 123_456_789,
            heap_bytes: 4_294_901_760,
        },
    ];
    let mut out = Vec::new();
    for failure in failures {
        for policy in PolicyKind::ALL.map(Some).into_iter().chain([None]) {
            for limit_pages in [0, 1024] {
                out.push(Explanation {
                    failure,
                    policy,
                    limit_pages,
                });
            }
        }
    }
    out
}

#[test]
#[cfg_attr(miri, ignore = "runs node")]
fn explanations_match_the_js_modules_describe_failure() {
    let cases = cases();
    let json: Vec<String> = cases
        .iter()
        .map(|e| {
            let policy = e
                .policy
                .map_or("null".to_string(), |k: PolicyKind| format!("\"{}\"", k.name()));
            format!(
                "{{\"size\":{},\"align\":{},\"inUse\":{},\"heapBytes\":{},\"policy\":{policy},\"limitPages\":{}}}",
                e.failure.size, e.failure.align, e.failure.in_use, e.failure.heap_bytes, e.limit_pages
            )
        })
        .collect();
    let module = concat!(env!("CARGO_MANIFEST_DIR"), "/js/nogrow.mjs");
    let script = format!(
        "const {{ describeFailure }} = await import({module:?});\n\
         for (const f of JSON.parse(process.argv[1])) console.log(describeFailure(f));"
    );
    let out = Command::new("node")
        .args(["--input-type=module", "-e", &script])
        .arg(format!("[{}]", json.join(",")))
        .output()
        .expect("node runs (Node 20 or later is needed for this test)");
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let js = String::from_utf8(out.stdout).unwrap();
    let js: Vec<&str> = js.lines().collect();
    assert_eq!(js.len(), cases.len(), "one line per case");
    for (case, js) in cases.iter().zip(js) {
        assert_eq!(case.to_string(), js, "{case:?}");
    }
}
