//! Input validation shared by every command. Limits are deliberately tight: names end up in
//! Kubernetes subjects, URLs and audit records.
//!
//! The OpenAPI document states the same rules as schema patterns and lengths
//! (`warden-client`'s input types), so that a body the schema accepts is one these
//! functions accept: lengths count characters of the value as sent, and "blank" is the
//! explicit set [`is_blank`], the same in every regular-expression engine.

use crate::error::DomainError;

pub const MAX_NAME: usize = 128;
pub const MAX_DESCRIPTION: usize = 1024;
pub const MAX_EMAIL: usize = 254;
pub const MAX_RULES: usize = 1000;
pub const MAX_URL: usize = 2048;
pub const MAX_CA_BUNDLE: usize = 65536;
/// Most roles one rule names (the width of the engine's role mask).
pub const MAX_ROLES_PER_RULE: usize = 64;
/// Most namespace permission keys one grant names.
pub const MAX_NAMESPACE_KEYS: usize = 64;

/// Whitespace as the API's schema patterns spell it out: Unicode's White_Space characters
/// and the byte-order mark (which JavaScript's `\s` includes).
pub fn is_blank(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

fn too_long(field: &str, value: &str, max: usize) -> Result<(), DomainError> {
    if value.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

fn no_control(field: &str, value: &str) -> Result<(), DomainError> {
    if value.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Characters that show nothing (Unicode's default-ignorable code points of the Basic
/// Multilingual Plane: zero-width spaces and joiners, bidirectional controls, variation
/// selectors, the soft hyphen): a name holding one looks like a name without it
/// (`admin\u{200b}` beside `admin`). The OpenAPI document's patterns exclude the same set
/// ([`INVISIBLE_CLASS`]); the astral ones (tags, musical formatting) cannot be written in an
/// ECMA-262 pattern without the `u` flag, so they are not refused here, but the confusables
/// skeleton drops them: `admin` followed by a tag still resembles `admin`.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{34f}'
            | '\u{61c}'
            | '\u{115f}'..='\u{1160}'
            | '\u{17b4}'..='\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff0}'..='\u{fff8}'
    )
}

/// [`is_invisible`]'s characters as the inside of a regular-expression class, for schema
/// patterns.
pub const INVISIBLE_CLASS: &str = r"\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8";

/// A name as people write it: no control or invisible characters, in Unicode's composed
/// form (NFC), so that `é` typed two ways is one name.
fn visible_nfc(field: &str, value: &str) -> Result<String, DomainError> {
    use unicode_normalization::UnicodeNormalization;
    no_control(field, value)?;
    if value.chars().any(is_invisible) {
        return Err(DomainError::invalid(
            field,
            "must not contain invisible characters (zero-width spaces or joiners, direction marks, variation selectors)",
        ));
    }
    Ok(value.nfc().collect())
}

/// A human-readable display name: at most 128 characters, not blank, no control or
/// invisible characters; stored NFC-normalized, without surrounding blanks.
pub fn display_name(field: &str, value: &str) -> Result<String, DomainError> {
    too_long(field, value, MAX_NAME)?;
    let value = visible_nfc(field, value)?;
    let value = value.trim_matches(is_blank);
    if value.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    Ok(value.to_string())
}

/// An optional name: blank means none (`""`), anything else is a [`display_name`].
pub fn optional_name(field: &str, value: &str) -> Result<String, DomainError> {
    too_long(field, value, MAX_NAME)?;
    Ok(visible_nfc(field, value)?
        .trim_matches(is_blank)
        .to_string())
}

/// What a name looks like, for telling names apart that a reader could not: Unicode's
/// confusables skeleton (UTS #39), without regard to case (the skeleton maps a digit zero
/// to a capital `O`, so case is set aside after it as well as before). Cyrillic `а` and
/// Latin `a` have one skeleton; so do `Ops`, `ops` and `0ps`.
pub fn skeleton(name: &str) -> String {
    unicode_security::skeleton(&name.to_lowercase())
        .collect::<String>()
        .to_lowercase()
}

/// Refuses a `kind` name a reader could mistake for one of `others` (`0ps` for `Ops`,
/// Cyrillic letters for Latin ones), naming the one it resembles.
pub fn refuse_lookalike<'a>(
    kind: &'static str,
    name: &str,
    others: impl IntoIterator<Item = &'a str>,
) -> Result<(), DomainError> {
    match resembled(name, others) {
        Some(other) => Err(DomainError::Confusable {
            kind,
            name: name.to_string(),
            resembles: other.to_string(),
        }),
        None => Ok(()),
    }
}

/// The first of `existing` that `name` could be mistaken for (same skeleton), if any.
pub fn resembled<'a>(name: &str, existing: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = skeleton(name);
    existing.into_iter().find(|other| skeleton(other) == wanted)
}

/// Optional free text: at most 1024 characters, no control characters but newlines; stored
/// without surrounding blanks.
pub fn description(field: &str, value: &str) -> Result<String, DomainError> {
    too_long(field, value, MAX_DESCRIPTION)?;
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.trim_matches(is_blank).to_string())
}

/// A group's name, which may become part of a Kubernetes subject: 1 to 63 characters of
/// ASCII letters, digits, `-`, `_` and `.`, starting with a letter or digit. Its case is kept
/// as written (`Engineering`); two groups' names may not differ only in case.
pub fn group_name(field: &str, value: &str) -> Result<String, DomainError> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if !ok {
        return Err(DomainError::invalid(
            field,
            "must be 1 to 63 characters of letters, digits, '-', '_' and '.', starting with a letter or digit",
        ));
    }
    Ok(value.to_string())
}

/// A Kubernetes DNS-1123 label (namespaces, clusters): 1 to 63 characters of lowercase
/// letters, digits and `-`, starting and ending with a letter or digit.
pub fn dns_label(field: &str, value: &str) -> Result<String, DomainError> {
    let bytes = value.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let ok = !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && bytes.iter().all(|b| alnum(b) || *b == b'-');
    if !ok {
        return Err(DomainError::invalid(
            field,
            "must be a DNS label: 1 to 63 characters of lowercase letters, digits and '-', starting and ending with a letter or digit",
        ));
    }
    Ok(value.to_string())
}

/// An email address, kept as given but compared case-insensitively.
pub fn email(field: &str, value: &str) -> Result<String, DomainError> {
    let value = value.trim();
    let well_formed = value.len() <= MAX_EMAIL
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !well_formed {
        return Err(DomainError::invalid(
            field,
            "must be an email address such as ada@example.com",
        ));
    }
    Ok(value.to_string())
}

/// A cluster's API server: an `https://` URL of at most 2048 characters, without blanks or
/// control characters, with a host.
pub fn https_url(field: &str, value: &str) -> Result<String, DomainError> {
    let ok = value.chars().count() <= MAX_URL
        && value
            .strip_prefix("https://")
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
        && !value.chars().any(|c| is_blank(c) || c.is_control());
    if !ok {
        return Err(DomainError::invalid(
            field,
            format!("must be an https:// URL of at most {MAX_URL} characters"),
        ));
    }
    Ok(value.to_string())
}

/// An identity provider's id for a user or group (SCIM `externalId`): 1 to 256 characters
/// without control characters, kept exactly as sent (it is case-exact).
pub fn external_id(field: &str, value: &str) -> Result<String, DomainError> {
    if value.is_empty() || value.chars().count() > 256 || value.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            "must be 1 to 256 characters without control characters",
        ));
    }
    Ok(value.to_string())
}

/// An identity provider's URL: `https://` or `http://` (a test IdP on loopback), otherwise
/// as [`https_url`].
pub fn http_url(field: &str, value: &str) -> Result<String, DomainError> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    let ok = value.chars().count() <= MAX_URL
        && rest.is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
        && !value.chars().any(|c| is_blank(c) || c.is_control());
    if !ok {
        return Err(DomainError::invalid(
            field,
            format!("must be an https:// (or http://) URL of at most {MAX_URL} characters"),
        ));
    }
    Ok(value.to_string())
}

/// A PEM bundle of CA certificates, at most 65536 characters (may be empty: spaces, tabs and
/// line breaks only).
pub fn ca_bundle(field: &str, value: &str) -> Result<String, DomainError> {
    too_long(field, value, MAX_CA_BUNDLE)?;
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    let empty = value.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
    if !empty && !value.contains("-----BEGIN CERTIFICATE-----") {
        return Err(DomainError::invalid(
            field,
            "must be PEM: one or more -----BEGIN CERTIFICATE----- blocks",
        ));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(group_name("name", "ml-engineers").is_ok());
        assert!(group_name("name", "Engineering").is_ok());
        assert!(group_name("name", "ML team").is_err());
        assert!(group_name("name", "-ml").is_err());
        assert!(group_name("name", "").is_err());
        assert!(group_name("name", &"a".repeat(64)).is_err());
        assert!(dns_label("name", "team-a").is_ok());
        assert!(dns_label("name", "-team").is_err());
        assert!(dns_label("name", "team_a").is_err());
        assert!(display_name("name", "  Acme  ").is_ok_and(|n| n == "Acme"));
        assert!(display_name("name", "   ").is_err());
        assert!(display_name("name", &"x".repeat(129)).is_err());
        assert!(display_name("name", "a\u{0}b").is_err());
        // Invisible characters are refused, alone or beside visible ones.
        assert!(display_name("name", "\u{200b}\u{200b}").is_err());
        assert!(display_name("name", "admin\u{200b}").is_err());
        assert!(optional_name("name", "lap\u{2066}top").is_err());
        // One name however its accents were typed.
        assert_eq!(display_name("name", "Cafe\u{301}").unwrap(), "Caf\u{e9}");
        // Names a reader could mistake for one another.
        assert_eq!(resembled("\u{430}dmin", ["ops", "admin"]), Some("admin"));
        assert_eq!(resembled("Admin", ["admin"]), Some("admin"));
        assert_eq!(resembled("admins", ["admin"]), None);
        assert_eq!(resembled("0ps", ["Ops"]), Some("Ops"));
        assert_eq!(resembled("admin\u{e0001}", ["admin"]), Some("admin"));
        // The class written for schema patterns is the predicate's set.
        let codes: Vec<u32> = INVISIBLE_CLASS
            .split("\\u")
            .skip(1)
            .map(|hex| u32::from_str_radix(hex.trim_end_matches('-'), 16).unwrap())
            .collect();
        let mut listed = Vec::new();
        let mut rest = INVISIBLE_CLASS.split("\\u").skip(1).zip(codes.iter());
        while let Some((text, from)) = rest.next() {
            if text.ends_with('-') {
                let (_, to) = rest.next().unwrap();
                listed.push((*from, *to));
            } else {
                listed.push((*from, *from));
            }
        }
        for c in (0u32..=0xFFFF).filter_map(char::from_u32) {
            let in_class = listed
                .iter()
                .any(|(from, to)| (*from..=*to).contains(&u32::from(c)));
            assert_eq!(in_class, is_invisible(c), "{:04X}", u32::from(c));
        }
    }

    #[test]
    fn emails_and_urls() {
        assert!(email("email", "ada@example.com").is_ok());
        assert!(email("email", "ada@example").is_err());
        assert!(email("email", "a da@example.com").is_err());
        assert!(email("email", "@example.com").is_err());
        assert!(https_url("url", "https://k8s.example.com:6443").is_ok());
        assert!(https_url("url", "http://k8s.example.com").is_err());
        assert!(ca_bundle("ca", "nope").is_err());
        assert!(ca_bundle("ca", "").is_ok());
        assert!(ca_bundle("ca", "-----BEGIN CERTIFICATE-----\u{0}").is_err());
        assert!(ca_bundle("ca", "-----BEGIN CERTIFICATE-----\r\nAAAA\n").is_ok());
    }
}
