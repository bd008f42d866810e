//! `cargo xtask`: the project's set-up and orchestration, in Rust so it runs the same on a
//! developer's machine and in CI (`.ci/run` calls `cargo xtask test`).

mod bench;
mod browser;
mod checks;
mod counts;
mod demo;
mod examples;
mod js_tests;
mod lockfile;
mod modules;
mod package;
mod paths;
mod peer;
mod run;
mod setup;
mod soak;
mod suite;
mod test_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Set-up and orchestration of wasm-websocket",
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Test(test_cmd::TestArgs),
    Demo(demo::DemoArgs),
    Bench(bench::BenchArgs),
    Soak(soak::SoakArgs),
    /// Check the library's module graph: no import circle, no upward import through lib.rs.
    #[command(visible_alias = "deps")]
    Modules,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before any thread starts: children must find what `cargo install` put there.
    let root = paths::workspace_root();
    setup::prepare_environment(&paths::target_dir(&root));

    let (name, outcome) = match &cli.command {
        Command::Test(args) => ("test", test_cmd::run(args)),
        Command::Bench(args) => ("bench", bench::run(args)),
        Command::Soak(args) => ("soak", soak::run(args)),
        Command::Demo(args) => ("demo", demo::run(args).map(|()| true)),
        Command::Modules => ("modules", modules::check(&root).map(|()| true)),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("\nxtask {name}: FAILED (see the summary above)");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("\nerror: {e:#}");
            ExitCode::FAILURE
        }
    }
}
