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
    bin_name = "cargo xtask",
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

#[cfg(test)]
mod tests {
    use super::*;
    use browser::{Browser, Browsers};

    fn parse(args: &str) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("xtask").chain(args.split_whitespace()))
            .map(|c| c.command)
    }

    #[test]
    fn test_flags_and_extra_args() {
        let Ok(Command::Test(t)) = parse("test") else {
            panic!()
        };
        assert_eq!(
            (t.browser, t.no_install, t.skip_checks),
            (Browsers::All, false, false)
        );
        let Ok(Command::Test(t)) =
            parse("test --browser firefox --no-install --skip-checks -- echo -- --nocapture")
        else {
            panic!()
        };
        assert_eq!(t.browser.list(), [Browser::Firefox]);
        assert!(t.no_install && t.skip_checks);
        assert_eq!(t.extra_args, ["echo", "--", "--nocapture"]);
        let Ok(Command::Test(t)) = parse("test --browser=chromium") else {
            panic!()
        };
        assert_eq!(t.browser.list(), [Browser::Chromium]);
        for bad in [
            "test --browser",
            "test --browser safari",
            "test --frobnicate",
            "test --no-install=yes",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn soak_demo_and_modules() {
        let Ok(Command::Soak(s)) =
            parse("soak --browser=all --short --worker --no-install -- kill")
        else {
            panic!()
        };
        assert_eq!(s.browser.list(), Browser::ALL);
        assert!(s.short && s.worker && s.no_install);
        assert_eq!(s.extra_args, ["kill"]);
        let Ok(Command::Soak(s)) = parse("soak") else {
            panic!()
        };
        assert_eq!(s.browser.list(), [Browser::Chromium]);
        let Ok(Command::Demo(d)) = parse("demo --port=0") else {
            panic!()
        };
        assert_eq!((d.port, d.no_install), (0, false));
        let Ok(Command::Demo(d)) = parse("demo") else {
            panic!()
        };
        assert_eq!(d.port, 8080);
        assert!(parse("demo --port 70000").is_err());
        assert!(matches!(parse("deps"), Ok(Command::Modules)));
        assert!(matches!(parse("modules"), Ok(Command::Modules)));
    }
}
