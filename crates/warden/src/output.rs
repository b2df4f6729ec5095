//! What every command shares to answer: its error, what it tells the shell, and the printing
//! of an answer as a table or as the API's JSON.

use std::io::Write;

use serde::Serialize;
use warden_client::model::Written;
use warden_client::ClientError;

use crate::cli::Output;

/// Why a command failed; printed as `error: <this>`.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Client(Box<ClientError>),
    #[error("{0}")]
    Message(String),
    /// No HTTP answer from the server at `url`.
    #[error("cannot reach the server at {url}: {reason}")]
    Unreachable { url: String, reason: String },
}

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> CliError {
        CliError::Client(Box::new(e))
    }
}

impl CliError {
    pub fn message(text: impl Into<String>) -> CliError {
        CliError::Message(text.into())
    }

    /// Names the server a transport error is about.
    pub fn at_url(self, url: &str) -> CliError {
        match self {
            CliError::Client(e) => match *e {
                ClientError::Transport(reason) => CliError::Unreachable {
                    url: url.trim().trim_end_matches('/').to_string(),
                    reason,
                },
                other => CliError::Client(Box::new(other)),
            },
            other => other,
        }
    }

    /// A line of advice printed after the error, if there is one.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            CliError::Unreachable { .. } => {
                Some("is `warden serve` running? set --url, WARDEN_URL or `warden login --url`")
            }
            _ => None,
        }
    }
}

/// What a successful command tells the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// `check` answered DENY.
    Denied,
}

/// Writes to standard output; a closed pipe (`warden ... | head`) is not an error.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

pub fn print_json<T: Serialize>(value: &T) -> Result<(), CliError> {
    let mut value = serde_json::to_value(value)
        .map_err(|e| CliError::message(format!("cannot encode JSON: {e}")))?;
    rfc3339_times(&mut value);
    let text = serde_json::to_string_pretty(&value)
        .map_err(|e| CliError::message(format!("cannot encode JSON: {e}")))?;
    out(&text);
    out("\n");
    Ok(())
}

/// The API's resources, with their times (`at`, `created_at`, `expires_at`, ...: milliseconds
/// since the epoch on the wire) as RFC 3339 strings, which a person and `date -d` read. Every
/// other field is as the API sent it.
fn rfc3339_times(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(fields) => {
            for (name, field) in fields.iter_mut() {
                let is_time = name == "at" || name.ends_with("_at");
                match field.as_i64() {
                    Some(ms) if is_time => {
                        *field = warden_core::Timestamp(ms).rfc3339_millis().into();
                    }
                    _ => rfc3339_times(field),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(rfc3339_times),
        _ => {}
    }
}

/// Prints `value` as JSON, or the text `table` makes of it.
pub fn show<T: Serialize>(
    output: Output,
    value: &T,
    table: impl FnOnce(&T) -> String,
) -> Result<(), CliError> {
    match output {
        Output::Json => print_json(value),
        Output::Table => {
            out(&table(value));
            Ok(())
        }
    }
}

/// Prints a write's answer: its item as `table` renders it, or `done` if there is none.
pub fn show_written<T: Serialize>(
    output: Output,
    written: &Written<T>,
    done: &str,
    table: impl FnOnce(&T) -> String,
) -> Result<(), CliError> {
    show(output, written, |w| match &w.item {
        Some(item) => table(item),
        None => format!("{done} (revision {}).\n", w.revision),
    })
}

#[cfg(test)]
mod json_tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn times_are_rfc3339_wherever_they_are_and_nothing_else_changes() {
        let mut value = serde_json::json!({
            "revision": 7,
            "items": [{"id": "tok_1", "created_at": 1_796_171_826_146_i64, "expires_at": null,
                       "rules": [{"expires_at": 0}]}],
            "at": 1_000,
        });
        rfc3339_times(&mut value);
        assert_eq!(value["revision"], 7);
        assert_eq!(value["items"][0]["created_at"], "2026-12-02T00:37:06.146Z");
        assert_eq!(value["items"][0]["expires_at"], serde_json::Value::Null);
        assert_eq!(
            value["items"][0]["rules"][0]["expires_at"],
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(value["at"], "1970-01-01T00:00:01.000Z");
    }
}
