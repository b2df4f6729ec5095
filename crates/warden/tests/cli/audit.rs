//! `warden audit`: the log with names beside ids, filters and the next page's cursor; and
//! `warden audit verify`, which fails naming an event altered behind the server's back.

use crate::common::{create_org, Server};

/// Runs one SQL statement on the server's SQLite file, as someone with access to the
/// database but not to Warden would.
async fn tamper(server: &Server, sql: &str) -> u64 {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}", server.data_dir().join("warden.db").display());
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let done = sqlx::Executor::execute(&mut conn, sql).await.unwrap();
    sqlx::Connection::close(conn).await.unwrap();
    done.rows_affected()
}

#[tokio::test]
async fn audit_shows_names_and_verify_names_an_altered_event() {
    let server = Server::start();
    let created = create_org(&server, "ada@example.com");
    let token = created["token"].as_str().unwrap();
    let admin = created["admin_user_id"].as_str().unwrap();
    let cli = |args: &[&str]| server.run(token, args);
    cli(&["groups", "create", "ml-team"]).ok();
    cli(&["groups", "delete", "admin"]).fails_with("409 legacy_group_protected");

    // Names beside ids in the table; ids alone in JSON.
    let table = cli(&["audit"]).ok().stdout;
    assert!(
        table.contains(&format!("user:{admin} (ada@example.com)")),
        "{table}"
    );
    assert!(table.contains("(ml-team)"), "{table}");
    assert!(table.contains("(admin)"), "{table}");
    let json = cli(&["audit", "-o", "json"]).ok().json();
    let items = json["items"].as_array().unwrap();
    assert_eq!(items[0]["actor"], format!("user:{admin}"));
    assert!(!json.to_string().contains("(ada@example.com)"));
    let total = items.len();

    // Filters, and a page at a time.
    let denied = cli(&["audit", "--outcome", "denied", "-o", "json"])
        .ok()
        .json();
    assert_eq!(denied["items"].as_array().unwrap().len(), 1);
    assert_eq!(denied["items"][0]["error_code"], "legacy_group_protected");
    let first = cli(&[
        "audit",
        "--limit",
        "1",
        "--outcome",
        "allowed",
        "--since",
        "0",
    ])
    .ok();
    assert_eq!(first.stdout.lines().count(), 2, "{}", first.stdout);
    assert!(
        first.stderr.starts_with("more: warden audit --cursor"),
        "{}",
        first.stderr
    );
    let cursor = json_of(&cli(&["audit", "--limit", "1", "-o", "json"]).ok().stdout)["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let rest = cli(&["audit", "--cursor", &cursor, "-o", "json"])
        .ok()
        .json();
    assert_eq!(rest["items"].as_array().unwrap().len(), total - 1);
    assert_eq!(rest["next_cursor"], serde_json::Value::Null);
    cli(&["audit", "--since", "yesterday"]).expect_code(2);

    // Intact: verified.
    let ok = cli(&["audit", "verify"]).ok().stdout;
    assert!(
        ok.starts_with(&format!("verified {total} events, head ")),
        "{ok}"
    );

    // A row altered behind the server's back: verification fails and names it.
    let victim = &items[total - 2];
    let id = victim["id"].as_str().unwrap();
    let seq = victim["seq"].as_u64().unwrap();
    let touched = tamper(
        &server,
        &format!("UPDATE audit_events SET target = 'grp_innocent' WHERE id = '{id}'"),
    )
    .await;
    assert_eq!(touched, 1);
    let run = cli(&["audit", "verify"]).expect_code(1);
    assert!(
        run.stderr.starts_with(&format!(
            "error: the audit chain is broken at event {id} (seq {seq}): altered"
        )),
        "{}",
        run.stderr
    );
    let json = cli(&["audit", "verify", "-o", "json"]).expect_code(1);
    let verdict = json.json();
    assert_eq!(verdict["ok"], false);
    assert_eq!(verdict["broken"]["event_id"], id);
    assert_eq!(verdict["broken"]["reason"], "altered");
}

fn json_of(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}
