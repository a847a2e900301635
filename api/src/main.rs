use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: a GraphQL request makes thousands of small,
/// short-lived allocations across threads, and glibc's malloc and free took about a fifth
/// of the CPU of the product list page (see bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    shop::cli::run()
}
