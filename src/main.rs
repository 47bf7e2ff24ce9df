//! The `qtscen` binary: parses the command line and exits with the run's code.

// A run allocates many small, short-lived values per step (templates, records, views);
// mimalloc serves them with far less work than glibc's malloc (see bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (the same place in its v2 and v3
/// headers; libmimalloc-sys names no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> std::process::ExitCode {
    // Never hand freed memory back to the OS during a run: by default mimalloc purges it
    // after 10 ms and the next allocation faults it in, zeroed, again — a third of the
    // CPU time of a 2,000-step run went to zeroing pages (bench/README.md). A run is one
    // short-lived process; its peak is what it holds anyway.
    // `MIMALLOC_PURGE_DELAY` in the environment still decides, for measurements.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a plain integer option; mimalloc allows it at any time.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|c| c == "run" || c == "demo") {
        no_huge_pages();
    }
    qtscen::run(args)
}

/// No transparent huge pages for a run. `validate`, `plan` and `render` are one burst of
/// work over a large input, and huge pages make them about a third faster; a run waits on
/// the network between small allocations, and there a huge-page fault that has to
/// compact memory stalls the step: W2 went from 37 ms to 120 ms when it ran right after
/// Hurl and Tavern had fragmented memory (bench/README.md).
#[cfg(target_os = "linux")]
fn no_huge_pages() {
    // SAFETY: prctl with PR_SET_THP_DISABLE only sets a flag of this process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Transparent huge pages are a Linux setting; elsewhere there is nothing to turn off.
#[cfg(not(target_os = "linux"))]
fn no_huge_pages() {}
