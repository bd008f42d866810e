//! `cargo xtask`: the project's set-up and orchestration, in Rust so it runs the same on a
//! developer's machine and in CI (`.ci/run` calls `cargo xtask test`).

mod bench;
mod demo;
mod examples;
mod js_tests;
mod peer;
mod setup;
mod soak;
mod suite;
mod test_cmd;
mod util;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  test    install what is missing, then run every test suite and check (see `cargo xtask test --help`)
  demo    build the npm package and serve the demo page on http://127.0.0.1:8080/ (see `cargo xtask demo --help`)
  bench   benchmark against raw JS, gloo-net and ws_stream_wasm, and measure sizes (see `cargo xtask bench --help`)
  soak    the soak and fault suite with its figures, a few minutes per browser (see `cargo xtask soak --help`)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // Before any thread starts: children must find what `cargo install` put there.
    setup::put_cargo_bin_on_path();
    setup::drop_cargo_library_path(&util::target_dir(&util::workspace_root()));

    match args.first().map(String::as_str) {
        Some("test") => match test_cmd::Options::parse(&args[1..]) {
            Ok(Some(opts)) => match test_cmd::run(&opts) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => {
                    eprintln!("\nxtask test: FAILED (see the summary above)");
                    ExitCode::FAILURE
                }
                Err(e) => {
                    eprintln!("\nerror: {e}");
                    ExitCode::FAILURE
                }
            },
            Ok(None) => {
                println!("{}", test_cmd::USAGE);
                ExitCode::SUCCESS
            }
            Err(msg) => {
                eprintln!("error: {msg}\n\n{}", test_cmd::USAGE);
                ExitCode::from(2)
            }
        },
        Some("bench") => match bench::Options::parse(&args[1..]) {
            Ok(Some(opts)) => match bench::run(&opts) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => {
                    eprintln!("\nxtask bench: some runs FAILED (see the table above)");
                    ExitCode::FAILURE
                }
                Err(e) => {
                    eprintln!("\nerror: {e}");
                    ExitCode::FAILURE
                }
            },
            Ok(None) => {
                println!("{}", bench::USAGE);
                ExitCode::SUCCESS
            }
            Err(msg) => {
                eprintln!("error: {msg}\n\n{}", bench::USAGE);
                ExitCode::from(2)
            }
        },
        Some("soak") => match soak::Options::parse(&args[1..]) {
            Ok(Some(opts)) => match soak::run(&opts) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => {
                    eprintln!("\nxtask soak: FAILED (see the summary above)");
                    ExitCode::FAILURE
                }
                Err(e) => {
                    eprintln!("\nerror: {e}");
                    ExitCode::FAILURE
                }
            },
            Ok(None) => {
                println!("{}", soak::USAGE);
                ExitCode::SUCCESS
            }
            Err(msg) => {
                eprintln!("error: {msg}\n\n{}", soak::USAGE);
                ExitCode::from(2)
            }
        },
        Some("demo") => match demo::demo(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("\nerror: {e}");
                ExitCode::FAILURE
            }
        },
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("error: unknown command `{other}`\n\n{USAGE}");
            ExitCode::from(2)
        }
        None => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
