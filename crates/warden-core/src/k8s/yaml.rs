//! A small YAML emitter for what Warden writes for Kubernetes (RBAC objects, kubeconfigs):
//! an ordered tree written in block style.
//!
//! Every string scalar is double-quoted with JSON's escapes, so no value is ever read back
//! as a number, a boolean, a null, a comment or a second line (`"on"`, `"1.0"`, `"a: b"`,
//! `"# x"`). Characters YAML does not allow raw, or that a YAML 1.1 parser takes for a line
//! break (NEL, LS, PS) or a byte-order mark, are escaped as `\uXXXX`, which both JSON and
//! YAML read. Keys are written plain when they are simple identifiers that no parser reads
//! as anything but a string, quoted otherwise.

use std::fmt::Write as _;

/// A YAML value. Maps keep their entries in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Yaml {
    Map(Vec<(String, Yaml)>),
    List(Vec<Yaml>),
    Str(String),
    Int(i64),
    Bool(bool),
}

impl Yaml {
    /// A string scalar.
    pub fn str(s: impl Into<String>) -> Yaml {
        Yaml::Str(s.into())
    }

    /// A map from `(key, value)` pairs, in their order.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Yaml)>) -> Yaml {
        Yaml::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A list of string scalars.
    pub fn strs<S: AsRef<str>>(items: &[S]) -> Yaml {
        Yaml::List(items.iter().map(|s| Yaml::str(s.as_ref())).collect())
    }

    /// The value as a YAML document, ending with a newline.
    pub fn to_document(&self) -> String {
        let mut out = String::new();
        match self {
            Yaml::Map(entries) if !entries.is_empty() => write_map(&mut out, entries, 0, false),
            Yaml::List(items) if !items.is_empty() => write_list(&mut out, items, 0, false),
            scalar => {
                write_scalar(&mut out, scalar);
                out.push('\n');
            }
        }
        out
    }
}

/// Documents in one stream, separated by `---`.
pub fn to_stream<'a>(documents: impl IntoIterator<Item = &'a Yaml>) -> String {
    let mut out = String::new();
    for (i, document) in documents.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&document.to_document());
    }
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A map's entries at `at` spaces; the first on the current line when `inline` (after `- `).
fn write_map(out: &mut String, entries: &[(String, Yaml)], at: usize, inline: bool) {
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 || !inline {
            indent(out, at);
        }
        write_key(out, key);
        match value {
            Yaml::Map(inner) if !inner.is_empty() => {
                out.push_str(":\n");
                write_map(out, inner, at + 2, false);
            }
            // A list under a key sits at the key's own indentation, as kubectl writes it.
            Yaml::List(items) if !items.is_empty() => {
                out.push_str(":\n");
                write_list(out, items, at, false);
            }
            scalar => {
                out.push_str(": ");
                write_scalar(out, scalar);
                out.push('\n');
            }
        }
    }
}

/// A list's items at `at` spaces; the first on the current line when `inline`.
fn write_list(out: &mut String, items: &[Yaml], at: usize, inline: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline {
            indent(out, at);
        }
        out.push_str("- ");
        match item {
            Yaml::Map(inner) if !inner.is_empty() => write_map(out, inner, at + 2, true),
            Yaml::List(inner) if !inner.is_empty() => write_list(out, inner, at + 2, true),
            scalar => {
                write_scalar(out, scalar);
                out.push('\n');
            }
        }
    }
}

/// A scalar, or an empty collection in flow style.
fn write_scalar(out: &mut String, value: &Yaml) {
    match value {
        Yaml::Str(s) => write_quoted(out, s),
        Yaml::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Yaml::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Yaml::Map(_) => out.push_str("{}"),
        Yaml::List(_) => out.push_str("[]"),
    }
}

/// Words a YAML 1.1 or 1.2 parser reads as something other than a string.
const NOT_STRINGS: [&str; 11] = [
    "true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf",
];

/// A key is written plain when it starts with a letter and holds only letters, digits, `-`,
/// `_`, `.` and `/`, and is not a word read as a boolean or null (`on`, `null`, ...).
fn is_plain_key(key: &str) -> bool {
    key.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
        && !NOT_STRINGS.iter().any(|w| key.eq_ignore_ascii_case(w))
}

fn write_key(out: &mut String, key: &str) {
    if is_plain_key(key) {
        out.push_str(key);
    } else {
        write_quoted(out, key);
    }
}

/// A double-quoted scalar with JSON's escapes.
fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Control characters, DEL and the C1 controls (NEL among them), the Unicode line and
/// paragraph separators, the byte-order mark and the non-characters YAML refuses.
fn needs_escape(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}'
        | '\u{fffe}' | '\u{ffff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_trees_come_out_in_block_style() {
        let tree = Yaml::map([
            ("apiVersion", Yaml::str("v1")),
            ("count", Yaml::Int(-3)),
            ("on", Yaml::Bool(true)),
            (
                "metadata",
                Yaml::map([
                    ("name", Yaml::str("x")),
                    ("labels", Yaml::map(Vec::<(String, Yaml)>::new())),
                ]),
            ),
            ("empty", Yaml::List(vec![])),
            (
                "rules",
                Yaml::List(vec![
                    Yaml::map([
                        ("verbs", Yaml::strs(&["get", "list"])),
                        ("size", Yaml::Int(1)),
                    ]),
                    Yaml::List(vec![Yaml::str("a"), Yaml::str("b")]),
                    Yaml::str("c"),
                ]),
            ),
            ("app.kubernetes.io/managed-by", Yaml::str("warden")),
            ("current context", Yaml::str("")),
        ]);
        let expected = "\
apiVersion: \"v1\"
count: -3
\"on\": true
metadata:
  name: \"x\"
  labels: {}
empty: []
rules:
- verbs:
  - \"get\"
  - \"list\"
  size: 1
- - \"a\"
  - \"b\"
- \"c\"
app.kubernetes.io/managed-by: \"warden\"
\"current context\": \"\"
";
        assert_eq!(tree.to_document(), expected);
        assert_eq!(Yaml::Map(vec![]).to_document(), "{}\n");
        assert_eq!(Yaml::List(vec![]).to_document(), "[]\n");
        assert_eq!(Yaml::str("x").to_document(), "\"x\"\n");
    }

    #[test]
    fn strings_are_quoted_and_escaped() {
        let quoted = |s: &str| {
            let mut out = String::new();
            write_quoted(&mut out, s);
            out
        };
        assert_eq!(quoted("say \"hi\""), r#""say \"hi\"""#);
        assert_eq!(quoted("a: b # c"), r#""a: b # c""#);
        assert_eq!(quoted("line\nnext\r\tend"), r#""line\nnext\r\tend""#);
        assert_eq!(quoted("  leading"), r#""  leading""#);
        assert_eq!(quoted("back\\slash"), r#""back\\slash""#);
        assert_eq!(quoted("héllo ✓ 𝄞"), "\"héllo ✓ 𝄞\"");
        assert_eq!(quoted("nul\u{0} bell\u{7}"), r#""nul\u0000 bell\u0007""#);
        assert_eq!(
            quoted("nel\u{85} ls\u{2028} bom\u{feff} del\u{7f}"),
            r#""nel\u0085 ls\u2028 bom\ufeff del\u007f""#
        );
        // Each is also a JSON string with the same text.
        for s in [
            "say \"hi\"",
            "line\nnext",
            "nel\u{85}\u{2028}",
            "é ✓ 𝄞",
            "\u{1}",
        ] {
            let back: String = serde_json::from_str(&quoted(s)).unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn keys_are_plain_only_when_unambiguous() {
        assert!(is_plain_key("certificate-authority-data"));
        assert!(is_plain_key("warden.io/org-id"));
        for key in ["", "1a", "a b", "a:b", "-a", "#a", "Yes", "NULL", "y", "é"] {
            assert!(!is_plain_key(key), "{key}");
        }
    }

    #[test]
    fn documents_are_separated() {
        let a = Yaml::map([("a", Yaml::Int(1))]);
        let b = Yaml::map([("b", Yaml::Int(2))]);
        assert_eq!(to_stream([&a, &b]), "a: 1\n---\nb: 2\n");
        assert_eq!(to_stream(std::iter::empty::<&Yaml>()), "");
    }
}
