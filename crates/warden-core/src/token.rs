//! The format of token secrets.
//!
//! `wdn_pat_` + 40 characters of lowercase base32 (200 random bits) + 6 characters of
//! checksum (the CRC-32 of everything before it, in base32). The prefix lets secret scanners
//! find leaked tokens; the checksum rejects a typo or a made-up string without a database
//! look-up. Only the SHA-256 of the whole secret is stored: the secret has 200 bits of
//! entropy, so a fast hash is safe and verification costs no slow password hash.

use sha2::{Digest, Sha256};

const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// Random characters in a secret (5 bits each).
pub const RANDOM_CHARS: usize = 40;
const CHECKSUM_CHARS: usize = 6;
/// Characters of a secret kept in clear to tell tokens apart.
pub const DISPLAY_PREFIX_CHARS: usize = 14;

/// The kinds of secret Warden issues, by prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// A personal access token.
    Personal,
    /// An organization's token (the legacy model).
    Org,
    /// A platform operator's token.
    Operator,
    /// What a cluster's kube-apiserver presents to Warden's webhooks.
    Webhook,
}

impl SecretKind {
    pub const ALL: [SecretKind; 4] = [
        SecretKind::Personal,
        SecretKind::Org,
        SecretKind::Operator,
        SecretKind::Webhook,
    ];

    pub fn prefix(self) -> &'static str {
        match self {
            SecretKind::Personal => "wdn_pat_",
            SecretKind::Org => "wdn_org_",
            SecretKind::Operator => "wdn_opr_",
            SecretKind::Webhook => "wdn_whk_",
        }
    }
}

/// Why a presented secret was rejected before any look-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretFormatError {
    #[error("not a Warden token (unknown prefix)")]
    UnknownPrefix,
    #[error("token has the wrong length or characters")]
    Malformed,
    #[error("token checksum does not match (a typo?)")]
    BadChecksum,
}

/// The character of the alphabet for the low 5 bits of `bits`.
fn letter(bits: u32) -> char {
    let index = usize::try_from(bits & 31).unwrap_or(0);
    char::from(ALPHABET.get(index).copied().unwrap_or(b'a'))
}

/// Builds a secret from 40 random bytes (one character from the low 5 bits of each).
pub fn encode_secret(kind: SecretKind, random: &[u8; RANDOM_CHARS]) -> String {
    let mut out = String::with_capacity(kind.prefix().len() + RANDOM_CHARS + CHECKSUM_CHARS);
    out.push_str(kind.prefix());
    for b in random {
        out.push(letter(u32::from(*b)));
    }
    let checksum = checksum_chars(&out);
    out.push_str(&checksum);
    out
}

fn checksum_chars(body: &str) -> String {
    let crc = crc32fast::hash(body.as_bytes());
    (0..CHECKSUM_CHARS)
        .map(|i| letter(crc >> (i * 5)))
        .collect()
}

/// Checks prefix, length, alphabet and checksum; returns the kind.
pub fn parse_secret(secret: &str) -> Result<SecretKind, SecretFormatError> {
    let kind = SecretKind::ALL
        .into_iter()
        .find(|k| secret.starts_with(k.prefix()))
        .ok_or(SecretFormatError::UnknownPrefix)?;
    let rest = &secret[kind.prefix().len()..];
    if rest.len() != RANDOM_CHARS + CHECKSUM_CHARS || !rest.bytes().all(|b| ALPHABET.contains(&b)) {
        return Err(SecretFormatError::Malformed);
    }
    let (body, checksum) = secret.split_at(secret.len() - CHECKSUM_CHARS);
    if checksum_chars(body) != checksum {
        return Err(SecretFormatError::BadChecksum);
    }
    Ok(kind)
}

/// The SHA-256 of a secret, as stored.
pub fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Lowercase hex of a hash.
pub fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 15] {
            s.push(char::from(
                HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    s
}

/// `text` with anything shaped like a Warden secret (`wdn_` and the characters of its
/// alphabet that follow) replaced by `wdn_[redacted]`: for what others read, such as audit
/// records of refused calls and logs, where a caller may have pasted a secret by mistake.
pub fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("wdn_") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("wdn_") {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        out.push_str("wdn_[redacted]");
        let secret = from
            .bytes()
            .skip(4)
            .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
            .count();
        rest = from.get(4 + secret..).unwrap_or("");
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// The leading characters of a secret shown in listings.
pub fn display_prefix(secret: &str) -> String {
    secret.chars().take(DISPLAY_PREFIX_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_wherever_they_appear() {
        let secret = encode_secret(SecretKind::Personal, &[3u8; RANDOM_CHARS]);
        assert_eq!(redact("tok_abc"), "tok_abc");
        assert_eq!(redact(&secret), "wdn_[redacted]");
        assert_eq!(
            redact(&format!("a/{secret}/b {secret}")),
            "a/wdn_[redacted]/b wdn_[redacted]"
        );
        assert_eq!(redact("wdn_"), "wdn_[redacted]");
    }

    #[test]
    fn round_trip_and_typos() {
        let secret = encode_secret(SecretKind::Personal, &[7u8; RANDOM_CHARS]);
        assert!(secret.starts_with("wdn_pat_"));
        assert_eq!(secret.len(), 8 + 40 + 6);
        assert_eq!(parse_secret(&secret), Ok(SecretKind::Personal));
        // One changed character is caught by the checksum.
        let mut typo = secret.clone().into_bytes();
        typo[20] = if typo[20] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(typo).unwrap();
        assert_eq!(parse_secret(&typo), Err(SecretFormatError::BadChecksum));
        assert_eq!(
            parse_secret("ghp_abc"),
            Err(SecretFormatError::UnknownPrefix)
        );
        assert_eq!(
            parse_secret("wdn_pat_short"),
            Err(SecretFormatError::Malformed)
        );
        assert_eq!(to_hex(&hash_secret(&secret)).len(), 64);
    }
}
