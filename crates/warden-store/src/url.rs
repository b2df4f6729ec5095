//! Database URLs: masked for messages and logs, and the SQLite forms the store opens
//! (created if missing unless a mode is chosen, paths percent-encoded).

/// A database URL fit for messages and logs: the password of `scheme://user:password@host`
/// and any `password=` query parameter are masked.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                    _ => p.to_string(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

fn sqlite_params(url: &str) -> impl Iterator<Item = &str> {
    url.split_once('?')
        .map_or("", |(_, params)| params)
        .split('&')
}

pub(crate) fn sqlite_in_memory(url: &str) -> bool {
    let path = url.split_once('?').map_or(url, |(path, _)| path);
    path.ends_with(":memory:") || sqlite_params(url).any(|p| p == "mode=memory")
}

/// A SQLite URL that creates the file if missing, unless the caller chose a mode.
pub(crate) fn sqlite_url_creating(url: &str) -> String {
    if sqlite_in_memory(url) || sqlite_params(url).any(|p| p.starts_with("mode=")) {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// Percent-encodes a path for a `sqlite://` URL (sqlx decodes it back).
pub(crate) fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            redact_url("postgres://warden:s3cret@db:5432/warden?sslmode=disable"),
            "postgres://warden:***@db:5432/warden?sslmode=disable"
        );
        assert_eq!(
            redact_url("postgres://db/warden?user=w&password=s3cret"),
            "postgres://db/warden?user=w&password=***"
        );
        assert_eq!(redact_url("postgres://db/warden"), "postgres://db/warden");
        assert_eq!(redact_url("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
    }

    #[test]
    fn sqlite_urls() {
        assert_eq!(
            sqlite_url_creating("sqlite://a.db"),
            "sqlite://a.db?mode=rwc"
        );
        assert_eq!(
            sqlite_url_creating("sqlite://a.db?cache=shared"),
            "sqlite://a.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            sqlite_url_creating("sqlite://a.db?mode=ro"),
            "sqlite://a.db?mode=ro"
        );
        assert_eq!(percent_encode(b"/tmp/a b?#%.db"), "/tmp/a%20b%3F%23%25.db");
    }
}
