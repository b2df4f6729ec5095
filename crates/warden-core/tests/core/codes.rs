//! The table of error codes and the README agree, row for row.

use warden_core::Code;

/// The rows of README.md's error table: `| `code` | status | title | ... |`.
fn readme_rows() -> Vec<(String, u16, String)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let table = text
        .split("<!-- error-codes:start -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- error-codes:end -->").next())
        .expect("README.md marks its error table with error-codes:start/end comments");
    table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (
                cells[1].trim_matches('`').to_string(),
                cells[2].parse().unwrap(),
                cells[3].to_string(),
            )
        })
        .collect()
}

#[test]
fn the_readme_lists_every_code_with_its_status_and_title() {
    let table: Vec<(String, u16, String)> = Code::ALL
        .iter()
        .map(|c| (c.name().to_string(), c.status(), c.title().to_string()))
        .collect();
    assert_eq!(readme_rows(), table);
}
