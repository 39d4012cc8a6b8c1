//! `onboarding-server`: see `onboarding_server::cli` for the commands.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    onboarding_server::cli::main().await
}
