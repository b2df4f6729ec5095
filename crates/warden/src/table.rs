//! A small printer of aligned columns and key-value blocks, and the formatting of the values
//! that go in them.

/// Columns separated by two spaces, the header row first. Empty cells show as `-`.
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are empty, extra cells are dropped.
    pub fn row(&mut self, cells: Vec<String>) -> &mut Table {
        let mut cells: Vec<String> = cells.into_iter().map(|c| clean(&c)).collect();
        cells.resize(self.headers.len(), String::new());
        self.rows.push(cells);
        self
    }

    /// The table as text, one line per row, each ending with a newline.
    pub fn render(&self) -> String {
        let cell = |c: &str| -> String {
            if c.is_empty() {
                "-".to_string()
            } else {
                c.to_string()
            }
        };
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(&cell(c)));
            }
        }
        let mut out = String::new();
        let lines = std::iter::once(self.headers.clone()).chain(
            self.rows
                .iter()
                .map(|r| r.iter().map(|c| cell(c)).collect()),
        );
        for line in lines {
            let last = line.len().saturating_sub(1);
            let mut text = String::new();
            for (i, (c, w)) in line.iter().zip(&widths).enumerate() {
                text.push_str(c);
                if i < last {
                    let pad = w.saturating_sub(width(c)) + 2;
                    text.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        out
    }
}

/// `Key:  value` lines, the values aligned.
pub fn details(pairs: &[(&str, String)]) -> String {
    let key_width = pairs.iter().map(|(k, _)| width(k) + 1).max().unwrap_or(0);
    let mut out = String::new();
    for (key, value) in pairs {
        let value = clean(value);
        let value = if value.is_empty() { "-" } else { &value };
        let label = format!("{key}:");
        let pad = key_width - width(&label) + 2;
        out.push_str(&label);
        out.extend(std::iter::repeat_n(' ', pad));
        out.push_str(value);
        out.push('\n');
    }
    out
}

fn width(text: &str) -> usize {
    text.chars().count()
}

/// Replaces control characters (newlines, tabs, terminal escapes) with spaces: values come
/// from other users and must neither break the columns nor drive the terminal.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A time in milliseconds since the epoch as `YYYY-MM-DD HH:MM:SSZ` (UTC).
pub fn time(ms: i64) -> String {
    warden_core::Timestamp(ms).rfc3339().replacen('T', " ", 1)
}

pub fn optional_time(ms: Option<i64>, none: &str) -> String {
    ms.map(time).unwrap_or_else(|| none.to_string())
}

pub fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn columns_are_aligned() {
        let mut t = Table::new(&["ID", "EMAIL", "ADMIN"]);
        t.row(vec!["u1".into(), "ada@example.com".into(), "yes".into()]);
        t.row(vec!["user-22".into(), "".into(), "no".into()]);
        assert_eq!(
            t.render(),
            "ID       EMAIL            ADMIN\n\
             u1       ada@example.com  yes\n\
             user-22  -                no\n"
        );
    }

    #[test]
    fn control_characters_are_neutralised() {
        let mut t = Table::new(&["NAME"]);
        t.row(vec!["a\nb\x1b[31m".into()]);
        assert_eq!(t.render(), "NAME\na b [31m\n");
    }

    #[test]
    fn details_align_values() {
        assert_eq!(
            details(&[("ID", "x".into()), ("Email", "".into())]),
            "ID:     x\nEmail:  -\n"
        );
    }

    #[test]
    fn times_are_utc() {
        assert_eq!(time(0), "1970-01-01 00:00:00Z");
        assert_eq!(time(1_709_210_096_000), "2024-02-29 12:34:56Z");
        assert_eq!(time(-1000), "1969-12-31 23:59:59Z");
    }
}
