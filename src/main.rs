//! The `qtscen` binary: parses the command line and exits with the run's code.

// A run allocates many small, short-lived values per step (templates, records, views);
// mimalloc serves them with far less work than glibc's malloc (see bench/README.md).
// Built with `no_thp`: asking for transparent huge pages made a fault stall in memory
// compaction whenever other programs had fragmented memory (W2 went from 37 ms to
// 120 ms when run between Hurl and Tavern).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (the same place in its v2 and v3
/// headers; libmimalloc-sys names no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() {
    // Never hand freed memory back to the OS during a run: by default mimalloc purges it
    // after 10 ms and the next allocation faults it in, zeroed, again — a third of the
    // CPU time of a 2,000-step run went to zeroing pages (bench/README.md). A run is one
    // short-lived process; its peak is what it holds anyway.
    // `MIMALLOC_PURGE_DELAY` in the environment still decides, for measurements.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a plain integer option; mimalloc allows it at any time.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
    let code = qtscen::run(std::env::args_os());
    std::process::exit(code);
}
