//! One error type for every subcommand: a single-line message, exit code 2.

use std::fmt;

/// A bad-input failure, reported as one line on stderr.
///
/// Any `std::error::Error` converts into it with `?`; add context with [`CliError::context`].
#[derive(Debug)]
pub struct CliError(String);

pub type CliResult<T = ()> = Result<T, CliError>;

impl CliError {
    pub fn msg(message: impl fmt::Display) -> Self {
        Self(one_line(&message.to_string()))
    }

    /// Prefix the message, e.g. with the file it concerns.
    pub fn context(self, prefix: impl fmt::Display) -> Self {
        Self(format!("{prefix}: {}", self.0))
    }
}

// Not `impl Error for CliError`, so that this blanket conversion does not overlap `From<T> for T`.
impl<E: std::error::Error> From<E> for CliError {
    fn from(err: E) -> Self {
        Self::msg(err)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Error messages from libraries sometimes span lines; stderr gets exactly one.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Attach context to any fallible result.
pub trait Context<T> {
    fn context(self, prefix: impl fmt::Display) -> CliResult<T>;
}

impl<T, E: Into<CliError>> Context<T> for Result<T, E> {
    fn context(self, prefix: impl fmt::Display) -> CliResult<T> {
        self.map_err(|e| e.into().context(prefix))
    }
}

/// Prints one line to stdout. A closed pipe (`peel ... | head`) is not an error; other write
/// failures are reported instead of panicking as `println!` would.
pub fn print_line(text: &str) -> CliResult {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::msg(format!("writing to stdout: {e}"))),
        _ => Ok(()),
    }
}
