//! `onboarding-server`: see `onboarding_server::cli` for the commands.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    onboarding_server::cli::main().await
}
