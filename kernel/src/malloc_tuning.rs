//! Tunes glibc's allocator for a process whose many threads (task workers,
//! polars' pools, its async executor) allocate and free large column buffers.
//!
//! glibc gives every thread that contends for a lock its own arena, up to
//! eight per core, and each arena keeps what its thread freed. With a dozen
//! short-lived buffers per task spread over sixteen arenas on two cores, the
//! retained memory was a fifth of the hourly zone report's peak RSS
//! (`scripts/bench engine`: 262–284 MB with the default, 213–220 MB with one
//! arena per core) at no cost in time.

/// Caps glibc's malloc arenas at one per core. Call before any thread starts.
pub fn cap_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let arenas = libc::c_int::try_from(cores.max(2)).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only changes allocator parameters; it is called
        // before other threads exist, and a rejected value leaves the default.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}
