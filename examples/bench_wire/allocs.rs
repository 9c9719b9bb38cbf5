//! Allocations per turn, counted by `stats_alloc` as the global allocator
//! when the examples are built with the `count-allocs` feature (the counts
//! cover the whole process: the HTTP stack's allocations as much as the
//! client's). Without it, nothing is counted and `--allocs` says so.
//!
//! With the `mimalloc` feature instead, mimalloc is the global allocator:
//! what another allocator buys a client (its figures beside the system
//! allocator's in BENCHMARKS.md).

#[cfg(all(feature = "count-allocs", feature = "mimalloc"))]
compile_error!(
    "`count-allocs` counts the system allocator's allocations: build it without `mimalloc`"
);

#[cfg(all(feature = "mimalloc", not(feature = "count-allocs")))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "count-allocs")]
#[global_allocator]
static ALLOCATOR: &stats_alloc::StatsAlloc<std::alloc::System> = &stats_alloc::INSTRUMENTED_SYSTEM;

/// Allocations and bytes allocated so far, when counting.
#[cfg(feature = "count-allocs")]
pub(crate) fn snapshot() -> Option<(u64, u64)> {
    let stats = stats_alloc::INSTRUMENTED_SYSTEM.stats();
    Some((
        (stats.allocations + stats.reallocations) as u64,
        stats.bytes_allocated as u64,
    ))
}

/// Allocations and bytes allocated so far, when counting.
#[cfg(not(feature = "count-allocs"))]
pub(crate) fn snapshot() -> Option<(u64, u64)> {
    None
}

/// Whether this build counts allocations.
pub(crate) fn counting() -> bool {
    cfg!(feature = "count-allocs")
}

/// Allocations and bytes since `before`.
pub(crate) fn since(before: Option<(u64, u64)>) -> Option<(u64, u64)> {
    let (count, bytes) = before?;
    let (now_count, now_bytes) = snapshot()?;
    Some((now_count - count, now_bytes - bytes))
}
