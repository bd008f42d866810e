//! The terminal front: each line of stdin is sent; each message that arrives is printed
//! on stdout, the connection's state and errors on stderr (so stdout is the transcript).

use std::process::ExitCode;

use clap::Parser;
use futures::Stream;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::chat::{self, Event};

/// A chat client in the terminal: type a line to send it, end with Ctrl-D.
#[derive(Debug, Parser)]
struct Args {
    /// The chat's WebSocket URL (`http(s)://` works too and means `ws(s)://`).
    #[arg(long, default_value = "ws://127.0.0.1:8080/chat")]
    url: String,
}

/// Runs the chat; fails if it did not end with a clean close after stdin ended.
pub fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("! cannot start tokio: {error}");
            return ExitCode::FAILURE;
        }
    };
    let ok = runtime.block_on(chat::run(&args.url, stdin_lines(), show));
    // A read of stdin still pending (the server ended the chat) would keep a blocking
    // thread, and so the runtime's shutdown, waiting for the next line.
    runtime.shutdown_background();
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// stdin, line by line; a line that is not UTF-8 is an error, not a lossy guess.
fn stdin_lines() -> impl Stream<Item = std::io::Result<String>> {
    let lines = BufReader::new(tokio::io::stdin()).lines();
    futures::stream::unfold(lines, |mut lines| async move {
        let line = lines.next_line().await.transpose()?;
        Some((line, lines))
    })
}

fn show(event: Event) {
    match event {
        Event::Received(_) => println!("{event}"),
        _ => eprintln!("{event}"),
    }
}
