//! The README's quickstart, run exactly as printed: its `sh` blocks under "## Quickstart", in
//! order, with `sh -e`, against a fresh server, with this test's `warden` first on `PATH`.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{no_config, Server};

/// The `sh` blocks of the README's "## Quickstart" section.
fn quickstart_blocks(readme: &str) -> Vec<String> {
    let start = readme
        .find("\n## Quickstart\n")
        .expect("the README has a Quickstart section");
    let section = &readme[start + 1..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    let mut blocks = Vec::new();
    let mut lines = section[..end].lines();
    while let Some(line) = lines.next() {
        if line.trim() == "```sh" {
            let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            blocks.push(block.join("\n"));
        }
    }
    blocks
}

#[test]
fn the_readme_quickstart_runs_as_printed() {
    let readme_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let blocks = quickstart_blocks(&readme);
    assert!(!blocks.is_empty(), "no sh block under ## Quickstart");
    let script = blocks.join("\n");
    for placeholder in ["<", "wdn_pat_..."] {
        assert!(
            !script.contains(placeholder),
            "the quickstart has a placeholder `{placeholder}` a reader must replace:\n{script}"
        );
    }

    // The server of "command 1": its data in ./data of the directory the commands run in.
    let server = Server::start();
    let file = server.dir.path().join("quickstart.sh");
    std::fs::write(&file, &script).unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_warden")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("sh")
        .arg("-e")
        .arg(&file)
        .current_dir(server.dir.path())
        .env("PATH", path)
        .env("WARDEN_URL", &server.url)
        .env("XDG_CONFIG_HOME", no_config())
        .env_remove("WARDEN_TOKEN")
        .env_remove("WARDEN_DATA_DIR")
        .env_remove("WARDEN_DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the quickstart failed ({}):\n{script}\nstdout:\n{stdout}\nstderr:\n{stderr}\nserver log:\n{}",
        output.status,
        server.log()
    );
    assert!(stdout.contains("ALLOW"), "{stdout}");
    assert!(stdout.contains("DENY"), "{stdout}");
    assert!(stdout.contains("ml-engineers"), "{stdout}");
}

#[test]
fn the_quickstart_blocks_are_found() {
    let readme = "# T\n\n## Quickstart\n\ntext\n\n```sh\na\nb\n```\n\n```json\nx\n```\n\n```sh\nc\n```\n\n## Next\n\n```sh\nd\n```\n";
    assert_eq!(quickstart_blocks(readme), ["a\nb", "c"]);
}
