//! Tunes glibc's allocator for a process whose many threads (task workers,
//! polars' pools, its async executor) allocate and free large column buffers.
//!
//! glibc gives every thread that contends for a lock its own arena, up to
//! eight per core, and each arena keeps what its thread freed. With a dozen
//! short-lived buffers per task spread over sixteen arenas on two cores, the
//! retained memory was a fifth of the hourly zone report's peak RSS
//! (`scripts/bench engine`: 262–284 MB with the default, 213–220 MB with one
//! arena per core) at no cost in time.
//!
//! glibc also hands a freed block back to the system once the top of its
//! heap holds more than 128 KB, and serves large blocks with fresh mappings,
//! so every batch's column buffers faulted in new zeroed pages: TPC-H's 22
//! queries took 398,000 page faults and 1.75 s of system time, against
//! 197,000 and 1.2 s when freed memory stays in the heap for the next batch
//! (`perf stat kiln tpch`; `kiln workload revenue_report` 117,000 → 39,000
//! faults, 1.5 s → 1.0 s). The memory is given back when a cell ends.

/// Below this, blocks come from the heap rather than a mapping of their own.
const MMAP_THRESHOLD: libc::c_int = 32 << 20;
/// Free memory a heap keeps at its top before returning it to the system.
const TRIM_THRESHOLD: libc::c_int = 512 << 20;

/// Caps glibc's malloc arenas at one per core and keeps freed memory for
/// reuse. Call before any thread starts.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let arenas = libc::c_int::try_from(cores.max(2)).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only changes allocator parameters; it is called
        // before other threads exist, and a rejected value leaves the default.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    }
}

/// Returns every arena's free memory to the system, so a kernel waiting
/// for its next cell holds only what it uses.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages; it takes each arena's lock.
    unsafe {
        libc::malloc_trim(0);
    }
}
