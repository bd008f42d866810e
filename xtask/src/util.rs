//! The small pieces every subcommand uses: the error type, a printable command
//! builder, step headers and the workspace root.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};

/// An expected failure, with a message that says what to do about it.
#[derive(Debug)]
pub struct Error(String);

impl Error {
    pub fn new(msg: impl Into<String>) -> Self {
        Error(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Returns early with an [`Error`] built like `format!`.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::util::Error::new(format!($($arg)*)))
    };
}
pub(crate) use bail;

/// Splits `--flag=value` into the flag and its inline value; anything else is a flag alone.
pub fn split_flag(arg: &str) -> (&str, Option<String>) {
    match arg.split_once('=') {
        Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
        _ => (arg, None),
    }
}

/// Prints a step header, flushed so it lands before the output of the step's children.
pub fn header(title: &str) {
    let mut out = io::stdout().lock();
    // Output errors (closed pipe) must not stop the run.
    let _ = writeln!(out, "\n==> {title}");
    let _ = out.flush();
}

/// The workspace root: the parent of this crate's directory.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// Cargo's target directory for this workspace (`CARGO_TARGET_DIR` or `<root>/target`).
pub fn target_dir(root: &Path) -> PathBuf {
    for var in ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"] {
        if let Some(dir) = std::env::var_os(var).filter(|d| !d.is_empty()) {
            return root.join(dir);
        }
    }
    root.join("target")
}

/// A command that can print itself, so every failure names what failed.
#[derive(Clone, Debug)]
pub struct Cmd {
    program: OsString,
    /// Shown instead of `program` (e.g. `cargo` rather than the toolchain path in `$CARGO`).
    display_name: Option<String>,
    args: Vec<OsString>,
    /// `None` removes the variable from the child's environment.
    envs: Vec<(OsString, Option<OsString>)>,
    cwd: Option<PathBuf>,
}

impl Cmd {
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        Cmd {
            program: program.as_ref().to_os_string(),
            display_name: None,
            args: Vec::new(),
            envs: Vec::new(),
            cwd: None,
        }
    }

    /// The cargo that runs us (`$CARGO`), so nested builds use the same toolchain.
    pub fn cargo() -> Self {
        let mut cmd = Cmd::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cmd.display_name = Some("cargo".into());
        cmd
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    pub fn args<I>(mut self, args: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs.push((
            key.as_ref().to_os_string(),
            Some(value.as_ref().to_os_string()),
        ));
        self
    }

    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.envs.push((key.as_ref().to_os_string(), None));
        self
    }

    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args);
        for (key, value) in &self.envs {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        cmd
    }

    fn announce(&self) {
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "$ {self}");
        let _ = out.flush();
    }

    fn spawn_error(&self, err: io::Error) -> Error {
        let hint = if err.kind() == io::ErrorKind::NotFound {
            " (program not found)"
        } else {
            ""
        };
        Error::new(format!("could not start `{self}`{hint}: {err}"))
    }

    /// The error for a command that ran and exited unsuccessfully.
    pub fn failed(&self, status: ExitStatus) -> Error {
        Error::new(format!("`{self}` failed ({})", describe_status(status)))
    }

    /// Runs with inherited stdio; an unsuccessful exit is an error.
    pub fn run(&self) -> Result<()> {
        let status = self.status()?;
        if status.success() {
            Ok(())
        } else {
            Err(self.failed(status))
        }
    }

    /// Runs with inherited stdio and returns how it exited.
    pub fn status(&self) -> Result<ExitStatus> {
        self.announce();
        self.command()
            .stdin(Stdio::null())
            .status()
            .map_err(|e| self.spawn_error(e))
    }

    /// Runs quietly, capturing stdout and stderr (for probes like `--version`).
    pub fn output(&self) -> Result<Output> {
        self.command()
            .stdin(Stdio::null())
            .output()
            .map_err(|e| self.spawn_error(e))
    }

    /// Runs quietly and returns stdout; an unsuccessful exit is an error that includes stderr.
    pub fn read(&self) -> Result<String> {
        let out = self.output()?;
        if !out.status.success() {
            bail!(
                "`{self}` failed ({}): {}",
                describe_status(out.status),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs with stdout echoed live to ours and also captured; stderr is inherited so cargo
    /// keeps its progress display. Returns how it exited and what it printed on stdout.
    pub fn run_tee(&self) -> Result<(ExitStatus, String)> {
        self.announce();
        let mut child = self
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| self.spawn_error(e))?;
        let mut captured = Vec::new();
        if let Some(mut pipe) = child.stdout.take() {
            let mut buf = [0u8; 8192];
            loop {
                let n = match pipe.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                };
                captured.extend_from_slice(&buf[..n]);
                let mut out = io::stdout().lock();
                let _ = out.write_all(&buf[..n]);
                let _ = out.flush();
            }
        }
        let status = child
            .wait()
            .map_err(|e| Error::new(format!("waiting for `{self}`: {e}")))?;
        Ok((status, String::from_utf8_lossy(&captured).into_owned()))
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (key, value) in &self.envs {
            if let Some(value) = value {
                write!(
                    f,
                    "{}={} ",
                    key.to_string_lossy(),
                    quote(&value.to_string_lossy())
                )?;
            }
        }
        match &self.display_name {
            Some(name) => f.write_str(name)?,
            None => f.write_str(&quote(&self.program.to_string_lossy()))?,
        }
        for arg in &self.args {
            write!(f, " {}", quote(&arg.to_string_lossy()))?;
        }
        Ok(())
    }
}

/// Quotes an argument for display when a shell would need it.
fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+,@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// "exit code 101" or "killed by signal 9".
pub fn describe_status(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit code {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    status.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_display_names_env_and_quotes() {
        let cmd = Cmd::cargo()
            .args(["test", "-p", "wasm-websocket"])
            .arg("a b")
            .env("WASM_WS_PEER", "127.0.0.1:1")
            .env_remove("GECKODRIVER");
        assert_eq!(
            cmd.to_string(),
            "WASM_WS_PEER=127.0.0.1:1 cargo test -p wasm-websocket 'a b'"
        );
    }
}
