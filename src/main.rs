//! The `qtscen` binary: parses the command line and exits with the run's code.

// A run allocates many small, short-lived values per step (templates, records, views);
// mimalloc serves them with far less work than glibc's malloc (see bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let code = qtscen::run(std::env::args_os());
    std::process::exit(code);
}
