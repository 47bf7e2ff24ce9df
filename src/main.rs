//! The `qtscen` binary: parses the command line and exits with the run's code.
fn main() {
    let code = qtscen::run(std::env::args_os());
    std::process::exit(code);
}
