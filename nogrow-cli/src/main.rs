//! The `nogrow` binary: see [`nogrow_cli::cli::USAGE`].

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = nogrow_cli::cli::run(&args, &mut std::io::stdout(), &mut std::io::stderr());
    std::process::exit(code);
}
