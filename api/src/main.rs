use std::process::ExitCode;

fn main() -> ExitCode {
    shop::cli::run()
}
