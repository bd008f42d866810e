//! `ws-peer [--addr 127.0.0.1:0] [--static DIR] [--exit-on-stdin-eof]`

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

const USAGE: &str = "usage: ws-peer [--addr 127.0.0.1:0] [--static DIR] [--exit-on-stdin-eof]

Prints `listening on 127.0.0.1:PORT` once bound; see tests/peer/README.md for
the routes. WS_PEER_LOG=1 enables per-connection logs on stderr.";

struct Cli {
    addr: String,
    static_dir: Option<PathBuf>,
    exit_on_stdin_eof: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Cli, String> {
    let mut cli = Cli {
        addr: "127.0.0.1:0".to_string(),
        static_dir: None,
        exit_on_stdin_eof: false,
    };
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--addr" => cli.addr = value("--addr")?,
            "--static" => cli.static_dir = Some(PathBuf::from(value("--static")?)),
            "--exit-on-stdin-eof" if inline.is_none() => cli.exit_on_stdin_eof = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument `{arg}`")),
        }
    }
    Ok(cli)
}

fn main() -> ExitCode {
    let cli = match parse_args(std::env::args().skip(1)) {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("ws-peer: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = &cli.static_dir {
        if !dir.is_dir() {
            eprintln!("ws-peer: --static {}: not a directory", dir.display());
            return ExitCode::from(2);
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ws-peer: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listener = match TcpListener::bind(&cli.addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("ws-peer: cannot bind {}: {e}", cli.addr);
                return ExitCode::FAILURE;
            }
        };
        let local = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => {
                eprintln!("ws-peer: local_addr: {e}");
                return ExitCode::FAILURE;
            }
        };
        {
            let mut out = std::io::stdout().lock();
            if writeln!(out, "listening on {local}")
                .and_then(|()| out.flush())
                .is_err()
            {
                return ExitCode::FAILURE;
            }
        }
        if cli.exit_on_stdin_eof {
            tokio::spawn(async {
                let mut stdin = tokio::io::stdin();
                let mut buf = [0u8; 256];
                while let Ok(n) = stdin.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
                if ws_peer::verbose() {
                    eprintln!("ws-peer: stdin closed, exiting");
                }
                std::process::exit(0);
            });
        }
        ws_peer::run(
            listener,
            ws_peer::Options {
                static_dir: cli.static_dir,
            },
        )
        .await;
        ExitCode::SUCCESS
    })
}
