//! `warden org create` and `warden org add-user`: the operator's commands that write to the
//! store directly, beside a running server.

use serde_json::Value;

use crate::common::{add_user, create_org, strings, wait_for_email, warden, Run, Server};

#[test]
fn org_create_prints_the_token_once_and_honours_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    // WARDEN_DATA_DIR is the fallback for --data-dir.
    let mut command = warden();
    command.env("WARDEN_DATA_DIR", dir.path());
    let run = Run::of(
        command,
        &[
            "org",
            "create",
            "--name",
            "Acme",
            "--email",
            "ada@example.com",
            "--token-expires-in",
            "never",
        ],
    )
    .ok();
    assert!(dir.path().join("warden.db").exists());
    assert!(run.stdout.contains("ada@example.com"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Token:              wdn_pat_"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("will not be shown again"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Token expires:      never"),
        "{}",
        run.stdout
    );

    // A second organization in the same database, as JSON.
    let second = create_org(dir.path(), "bob@example.com");
    for key in [
        "organization_id",
        "admin_user_id",
        "admin_email",
        "token_id",
        "token",
    ] {
        assert!(second[key].is_string(), "{key} in {second}");
    }
    assert_eq!(second["admin_email"], "bob@example.com");

    // Invalid input is refused with the engine's code.
    let mut command = warden();
    command.env("WARDEN_DATA_DIR", dir.path());
    let run = Run::of(
        command,
        &["org", "create", "--name", "Bad", "--email", "not-an-email"],
    )
    .expect_code(1);
    assert!(
        run.stderr.starts_with("error: invalid_field: "),
        "{}",
        run.stderr
    );

    let mut command = warden();
    command.env("WARDEN_DATA_DIR", dir.path());
    Run::of(
        command,
        &[
            "org",
            "create",
            "--name",
            "X",
            "--email",
            "x@example.com",
            "--token-expires-in",
            "2d",
        ],
    )
    .expect_code(2);
}

/// The actions of the audit events written at `revision`, sorted, checking they are all the
/// system's.
fn system_actions_at(audit: &Value, revision: u64) -> Vec<String> {
    let mut actions: Vec<String> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["revision"] == revision)
        .map(|e| {
            assert_eq!(e["actor"], "system", "{e}");
            e["action"].as_str().unwrap().to_string()
        })
        .collect();
    actions.sort();
    actions
}

#[test]
fn an_operator_adds_a_user_whose_group_grants_take_effect() {
    let server = Server::start();
    let created = create_org(&server.data_dir(), "ada@example.com");
    let admin = created["token"].as_str().unwrap().to_string();
    let org = created["organization_id"].as_str().unwrap().to_string();
    let data = server.data_dir();
    server.run(&admin, &["groups", "create", "ml"]).ok();
    server
        .run(
            &admin,
            &[
                "policies",
                "create",
                "--name",
                "ml",
                "--rule",
                "group:ml=inference-admin",
            ],
        )
        .ok();
    let before = server
        .run(&admin, &["org", "get", "-o", "json"])
        .ok()
        .json()["revision"]
        .as_u64()
        .unwrap();

    // A typo in a group adds nobody: not the user, not their membership of the group that
    // exists, not a token. The error names the group.
    let typo = add_user(
        &data,
        &org,
        "bob@example.com",
        &["--group", "ml", "--group", "nope"],
    )
    .expect_code(1);
    assert!(typo.stderr.contains("no group `nope`"), "{}", typo.stderr);
    assert!(
        typo.stderr.starts_with("error: not_found: "),
        "{}",
        typo.stderr
    );
    assert!(typo.stdout.is_empty(), "{}", typo.stdout);
    server
        .run(&admin, &["users", "get", "bob@example.com"])
        .fails_with("404 not_found");

    let added = add_user(&data, &org, "bob@example.com", &["--group", "ml"])
        .ok()
        .json();
    let bob = added["user_id"].as_str().unwrap().to_string();
    let bob_token = added["token"].as_str().unwrap().to_string();
    assert!(bob_token.starts_with("wdn_pat_"));
    assert_eq!(added["groups"], serde_json::json!(["ml"]));
    assert_eq!(added["email"], "bob@example.com");
    assert_eq!(added["organization_id"], org.as_str());
    let revision = added["revision"].as_u64().unwrap();
    // One write, the next after the admin's last: the refused attempt wrote nothing.
    assert_eq!(revision, before + 1, "{added}");
    let revision_text = revision.to_string();

    // The server learns of the write from the store when a check asks for its revision.
    server
        .run(
            &admin,
            &[
                "check",
                &bob,
                "inference.deployments.create",
                "--at-least-revision",
                &revision_text,
            ],
        )
        .ok();
    server
        .run(&admin, &["check", &bob, "cks.clusters.create"])
        .expect_code(3);
    let users = server
        .run(&admin, &["users", "list", "-o", "json"])
        .ok()
        .json();
    assert_eq!(users["items"].as_array().unwrap().len(), 2, "{users}");
    // The user, the membership and the token are one revision's three audit events.
    let audit = server
        .run(&admin, &["audit", "--limit", "20", "-o", "json"])
        .ok()
        .json();
    assert_eq!(
        system_actions_at(&audit, revision),
        [
            "iam.memberships.create",
            "iam.users.invite",
            "tokens.personal.create"
        ]
    );
    // Bob's own token works, and he holds exactly the group's role.
    let me = server
        .run(&bob_token, &["whoami", "--output", "json"])
        .ok()
        .json();
    assert_eq!(me["user"]["email"], "bob@example.com");
    assert_eq!(me["token_id"], added["token_id"]);
    assert!(strings(&me["actions"]).contains(&"inference.gateways.delete".to_string()));
    assert!(!strings(&me["actions"]).contains(&"iam.users.list".to_string()));
    // Bob is told by email that a token was made for him.
    let email = wait_for_email(&data.join("outbox"), added["token_id"].as_str().unwrap());
    assert!(email.contains("To: <bob@example.com>"), "{email}");
    // A second user with the same email is refused.
    let again = add_user(&data, &org, "BOB@example.com", &[]).expect_code(1);
    assert!(again.stderr.contains("duplicate_name"), "{}", again.stderr);
}

#[test]
fn org_add_user_prints_one_revision_and_a_working_token() {
    let server = Server::start();
    let created = create_org(&server.data_dir(), "ada@example.com");
    let admin = created["token"].as_str().unwrap().to_string();
    let org = created["organization_id"].as_str().unwrap().to_string();
    let data = server.data_dir();
    let before = server
        .run(&admin, &["org", "get", "-o", "json"])
        .ok()
        .json()["revision"]
        .as_u64()
        .unwrap();

    // Two groups, by name and by id (one of them named twice), as a table.
    let metrics = server.run(&admin, &["groups", "get", "metrics", "-o", "json"]);
    let metrics_id = metrics.ok().json()["id"].as_str().unwrap().to_string();
    let mut command = warden();
    command.env("WARDEN_DATA_DIR", &data);
    let run = Run::of(
        command,
        &[
            "org",
            "add-user",
            "--org",
            &org,
            "--email",
            "carol@example.com",
            "--first-name",
            "Carol",
            "--group",
            "read",
            "--group",
            &metrics_id,
            "--group",
            "metrics",
            "--token-expires-in",
            "never",
        ],
    )
    .ok();
    let text = &run.stdout;
    assert!(text.starts_with("User added."), "{text}");
    let revisions: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("Revision:"))
        .map(str::trim)
        .collect();
    assert_eq!(revisions, [(before + 1).to_string()], "{text}");
    let line = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {text}"))
            .trim()
            .to_string()
    };
    assert_eq!(line("Groups:"), "read, metrics", "{text}");
    assert_eq!(line("Email:"), "carol@example.com", "{text}");
    assert_eq!(line("Token expires:"), "never", "{text}");
    assert!(text.contains("will not be shown again"), "{text}");
    let secret = line("Token:");
    assert!(secret.starts_with("wdn_pat_"), "{secret}");
    // The server finds the new token in the store on its first use.
    let me = server.run(&secret, &["whoami", "-o", "json"]).ok().json();
    assert_eq!(me["user"]["email"], "carol@example.com");
    assert_eq!(me["user"]["first_name"], "Carol");
    let mut groups = strings(&me["user"]["groups"]);
    groups.sort();
    assert_eq!(groups, ["metrics", "read"]);
    assert!(me["revision"].as_u64().unwrap() > before);

    // An organization that does not exist is named.
    let missing = add_user(&data, "ffffff", "dan@example.com", &[]).expect_code(1);
    assert!(
        missing.stderr.contains("no organization `ffffff`"),
        "{}",
        missing.stderr
    );
    // An invalid email is refused with the core's code, and adds nobody.
    let bad = add_user(&data, &org, "not-an-email", &["--group", "read"]).expect_code(1);
    assert!(
        bad.stderr.starts_with("error: invalid_field: "),
        "{}",
        bad.stderr
    );
    let users = server
        .run(&admin, &["users", "list", "-o", "json"])
        .ok()
        .json();
    assert_eq!(users["items"].as_array().unwrap().len(), 2, "{users}");
}

/// `--print-token` prints the secret alone, and `add-user` without `--org` adds to the
/// organization of the token in use: what the README's quickstart relies on.
#[test]
fn print_token_and_the_organization_of_the_token_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let created = Run::of(
        warden(),
        &[
            "org",
            "create",
            "--name",
            "Acme",
            "--email",
            "ada@example.com",
            "--data-dir",
            data,
            "--print-token",
        ],
    )
    .ok();
    let token = created.stdout.trim().to_string();
    assert_eq!(created.stdout, format!("{token}\n"));
    assert!(token.starts_with("wdn_pat_"), "{token}");
    let no_org = Run::of(
        warden(),
        &[
            "org",
            "add-user",
            "--email",
            "bob@example.com",
            "--data-dir",
            data,
        ],
    )
    .expect_code(1);
    assert!(
        no_org.stderr.contains("give --org ORG_ID"),
        "{}",
        no_org.stderr
    );
    let mut command = warden();
    command.env("WARDEN_TOKEN", &token);
    let bob = Run::of(
        command,
        &[
            "org",
            "add-user",
            "--email",
            "bob@example.com",
            "--data-dir",
            data,
            "--group",
            "read",
            "--print-token",
        ],
    )
    .ok();
    assert!(bob.stdout.trim().starts_with("wdn_pat_"), "{}", bob.stdout);
    assert_ne!(bob.stdout.trim(), token);
    let mut command = warden();
    command.env("WARDEN_TOKEN", "wdn_pat_not-a-real-token");
    let bad = Run::of(
        command,
        &[
            "org",
            "add-user",
            "--email",
            "carol@example.com",
            "--data-dir",
            data,
        ],
    )
    .expect_code(1);
    assert!(
        bad.stderr
            .contains("cannot tell the organization from the token in use"),
        "{}",
        bad.stderr
    );
}
