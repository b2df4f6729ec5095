//! The client's configuration file, `$XDG_CONFIG_HOME/warden/config.toml` (by default
//! `~/.config/warden/config.toml`): the server URL and token `warden login` saved. Flags win
//! over the environment (`WARDEN_URL`, `WARDEN_TOKEN`), which wins over this file.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::output::CliError;

/// The server a client command calls when neither a flag, the environment nor the file says.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// What the file holds. `Debug` does not print the token.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("url", &self.url)
            .field("has_token", &self.token.is_some())
            .finish()
    }
}

/// Where the file is: under `$XDG_CONFIG_HOME` when set (and absolute), else `$HOME/.config`.
pub fn path() -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let base = var("XDG_CONFIG_HOME").or_else(|| var("HOME").map(|home| home.join(".config")))?;
    Some(base.join("warden").join("config.toml"))
}

/// The file's settings; none when there is no file (or no home to look in).
pub fn load() -> Result<Config, CliError> {
    match path() {
        Some(path) => load_from(&path),
        None => Ok(Config::default()),
    }
}

pub fn load_from(path: &Path) -> Result<Config, CliError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
        Err(e) => {
            return Err(CliError::message(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    toml::from_str(&text).map_err(|e| {
        CliError::message(format!(
            "{} is not a Warden configuration (url, token): {e}",
            path.display()
        ))
    })
}

/// Writes the file: its directory made private (0700) if it is new, the file readable by its
/// owner only (0600) from the moment it exists, since it holds a secret.
pub fn save(path: &Path, config: &Config) -> Result<(), CliError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

    let fail = |what: &str, e: std::io::Error| {
        CliError::message(format!("cannot {what} {}: {e}", path.display()))
    };
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| fail("create the directory of", e))?;
    }
    let text = toml::to_string(config)
        .map_err(|e| CliError::message(format!("cannot encode the configuration: {e}")))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| fail("write", e))?;
    // A file that existed before keeps its mode on open: make it private too.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(|e| fail("restrict the permissions of", e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| fail("write", e))
}

/// The URL to call: the flag or `WARDEN_URL` (clap reads both), else the file's, else the
/// default.
pub fn url(given: Option<&str>, config: &Config) -> String {
    given
        .map(str::to_string)
        .or_else(|| config.url.clone())
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_URL.to_string())
}

/// The token to send: the flag or `WARDEN_TOKEN`, else the file's.
pub fn token(given: Option<&str>, config: &Config) -> Option<String> {
    given
        .map(str::to_string)
        .filter(|t| !t.trim().is_empty())
        .or_else(|| config.token.clone().filter(|t| !t.trim().is_empty()))
}

/// The token to send to the server at `url`: the flag or `WARDEN_TOKEN`, else the file's if
/// it was saved for that server (a saved token never goes to another server a flag or
/// `WARDEN_URL` names). `Err` names the server the saved token is for.
pub fn token_for(
    given: Option<&str>,
    config: &Config,
    url: &str,
) -> Result<Option<String>, String> {
    let given = given.map(str::to_string).filter(|t| !t.trim().is_empty());
    if given.is_some() {
        return Ok(given);
    }
    let same = |a: &str, b: &str| a.trim().trim_end_matches('/') == b.trim().trim_end_matches('/');
    match (&config.token, &config.url) {
        (Some(t), Some(saved)) if !t.trim().is_empty() && !same(saved, url) => Err(saved.clone()),
        _ => Ok(token(None, config)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn flags_and_environment_win_over_the_file() {
        let file = Config {
            url: Some("http://file:1".into()),
            token: Some("wdn_pat_file".into()),
        };
        assert_eq!(url(Some("http://flag:1"), &file), "http://flag:1");
        assert_eq!(url(None, &file), "http://file:1");
        assert_eq!(url(None, &Config::default()), DEFAULT_URL);
        assert_eq!(token(Some("wdn_pat_flag"), &file).unwrap(), "wdn_pat_flag");
        assert_eq!(token(Some(" "), &file).unwrap(), "wdn_pat_file");
        assert_eq!(token(None, &Config::default()), None);
        assert!(!format!("{file:?}").contains("wdn_pat_file"));
        // The saved token goes only to the server it was saved for.
        assert_eq!(
            token_for(None, &file, "http://file:1/").unwrap().unwrap(),
            "wdn_pat_file"
        );
        assert_eq!(
            token_for(None, &file, "http://other:1").unwrap_err(),
            "http://file:1"
        );
        assert_eq!(
            token_for(Some("wdn_pat_flag"), &file, "http://other:1")
                .unwrap()
                .unwrap(),
            "wdn_pat_flag"
        );
    }

    #[test]
    fn the_file_is_private_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("warden").join("config.toml");
        assert_eq!(load_from(&path).unwrap(), Config::default());
        let config = Config {
            url: Some("http://h:1".into()),
            token: Some("wdn_pat_x".into()),
        };
        save(&path, &config).unwrap();
        assert_eq!(load_from(&path).unwrap(), config);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        std::fs::write(&path, "url = 5").unwrap();
        assert!(load_from(&path).is_err());
    }
}
