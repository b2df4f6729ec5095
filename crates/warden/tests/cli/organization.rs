//! `warden operator` and the operator's `warden org` commands: bootstrap on the server's
//! host, then everything through the API with an operator's token.

use serde_json::Value;

use crate::common::{add_user, create_org, strings, wait_for_email, warden, Run, Server};

#[test]
fn the_operator_bootstraps_once_and_creates_organizations_over_the_api() {
    let server = Server::start();
    let data = server.data_dir();
    // WARDEN_DATA_DIR is the fallback for --data-dir; the table shows the token once.
    let mut command = warden();
    command.env("WARDEN_DATA_DIR", &data);
    let run = Run::of(
        command,
        &["operator", "bootstrap", "--email", "ops@example.com"],
    )
    .ok();
    assert!(
        run.stdout.contains("Token:") && run.stdout.contains("wdn_opr_"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("will not be shown again"),
        "{}",
        run.stdout
    );
    let operator = run
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Token:"))
        .unwrap()
        .trim()
        .to_string();
    // Once only.
    let mut command = warden();
    command.env("WARDEN_DATA_DIR", &data);
    let again = Run::of(
        command,
        &["operator", "bootstrap", "--email", "x@example.com"],
    )
    .expect_code(1);
    assert!(again.stderr.contains("exists already"), "{}", again.stderr);
    assert!(
        again.stderr.contains("warden operator create"),
        "{}",
        again.stderr
    );

    let run = server
        .run(
            &operator,
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
    assert!(run.stdout.contains("ada@example.com"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Token:              wdn_pat_"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Token expires:      never"),
        "{}",
        run.stdout
    );
    let admin = run
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Token:"))
        .unwrap()
        .trim()
        .to_string();
    // The new admin acts at once; an organization token is not an operator's.
    server.run(&admin, &["org", "get"]).ok();
    let refused = server
        .run(
            &admin,
            &["org", "create", "--name", "B", "--email", "b@example.com"],
        )
        .fails_with("401 unauthenticated");
    assert!(refused.stderr.contains("operator"), "{}", refused.stderr);
    // A second organization, as JSON, then both listed.
    let second = server
        .run(
            &operator,
            &[
                "-o",
                "json",
                "org",
                "create",
                "--name",
                "Globex",
                "--email",
                "bob@example.com",
            ],
        )
        .ok()
        .json();
    for key in [
        "organization_id",
        "admin_user_id",
        "admin_email",
        "token_id",
        "token",
    ] {
        assert!(second[key].is_string(), "{key} in {second}");
    }
    let listed = server.run(&operator, &["org", "list"]).ok();
    assert!(
        listed.stdout.contains("Acme") && listed.stdout.contains("Globex"),
        "{}",
        listed.stdout
    );
    // Invalid input is refused with the engine's code; a lifetime not on the list is bad usage.
    server
        .run(
            &operator,
            &["org", "create", "--name", "Bad", "--email", "not-an-email"],
        )
        .fails_with("422 invalid_field");
    server
        .run(
            &operator,
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
    // More operators, by an operator.
    let made = server
        .run(
            &operator,
            &[
                "operator",
                "create",
                "--name",
                "Two",
                "--email",
                "two@example.com",
                "--print-token",
            ],
        )
        .ok();
    let two = made.stdout.trim().to_string();
    assert!(two.starts_with("wdn_opr_"), "{two}");
    let operators = server.run(&two, &["operator", "list"]).ok();
    assert!(
        operators.stdout.contains("two@example.com"),
        "{}",
        operators.stdout
    );
}

/// The actions of the audit events written at `revision`, sorted, checking they are all a
/// platform operator's.
fn system_actions_at(audit: &Value, revision: u64) -> Vec<String> {
    let mut actions: Vec<String> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["revision"] == revision)
        .map(|e| {
            assert!(
                e["actor"].as_str().unwrap().starts_with("operator:op_"),
                "{e}"
            );
            e["action"].as_str().unwrap().to_string()
        })
        .collect();
    actions.sort();
    actions
}

#[test]
fn an_operator_adds_a_user_whose_group_grants_take_effect() {
    let server = Server::start();
    let created = create_org(&server, "ada@example.com");
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
        &server,
        &org,
        "bob@example.com",
        &["--group", "ml", "--group", "nope"],
    )
    .fails_with("404 not_found");
    assert!(typo.stderr.contains("group `nope`"), "{}", typo.stderr);
    assert!(typo.stdout.is_empty(), "{}", typo.stdout);
    server
        .run(&admin, &["users", "get", "bob@example.com"])
        .fails_with("404 not_found");

    let added = add_user(&server, &org, "bob@example.com", &["--group", "ml"])
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

    // The write went through the server: a check sees it at once.
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
    add_user(&server, &org, "BOB@example.com", &[]).fails_with("409 duplicate_name");
}

#[test]
fn org_add_user_prints_one_revision_and_a_working_token() {
    let server = Server::start();
    let created = create_org(&server, "ada@example.com");
    let admin = created["token"].as_str().unwrap().to_string();
    let org = created["organization_id"].as_str().unwrap().to_string();
    let before = server
        .run(&admin, &["org", "get", "-o", "json"])
        .ok()
        .json()["revision"]
        .as_u64()
        .unwrap();

    // Two groups, by name and by id (one of them named twice), as a table.
    let metrics = server.run(&admin, &["groups", "get", "metrics", "-o", "json"]);
    let metrics_id = metrics.ok().json()["id"].as_str().unwrap().to_string();
    let run = server
        .run(
            &server.operator_token(),
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
    let mut groups: Vec<String> = line("Groups:").split(", ").map(str::to_string).collect();
    groups.sort();
    assert_eq!(groups, ["metrics", "read"], "{text}");
    assert_eq!(line("Email:"), "carol@example.com", "{text}");
    assert_eq!(line("Token expires:"), "never", "{text}");
    assert!(text.contains("will not be shown again"), "{text}");
    let secret = line("Token:");
    assert!(secret.starts_with("wdn_pat_"), "{secret}");
    // The new token works at once.
    let me = server.run(&secret, &["whoami", "-o", "json"]).ok().json();
    assert_eq!(me["user"]["email"], "carol@example.com");
    assert_eq!(me["user"]["first_name"], "Carol");
    let mut groups = strings(&me["user"]["groups"]);
    groups.sort();
    assert_eq!(groups, ["metrics", "read"]);
    assert!(me["revision"].as_u64().unwrap() > before);

    // An organization that does not exist is named.
    let missing = add_user(&server, "ffffff", "dan@example.com", &[]).fails_with("404 not_found");
    assert!(missing.stderr.contains("ffffff"), "{}", missing.stderr);
    // An invalid email is refused with the core's code, and adds nobody.
    add_user(&server, &org, "not-an-email", &["--group", "read"]).fails_with("422 invalid_field");
    let users = server
        .run(&admin, &["users", "list", "-o", "json"])
        .ok()
        .json();
    assert_eq!(users["items"].as_array().unwrap().len(), 2, "{users}");
}

/// `--print-token` prints the secret alone (what the README's quickstart relies on); the
/// operator's other commands name what they change.
#[test]
fn print_token_and_the_operators_other_commands() {
    let server = Server::start();
    let operator = server.operator_token();
    assert!(operator.starts_with("wdn_opr_"), "{operator}");
    let created = server
        .run(
            &operator,
            &[
                "org",
                "create",
                "--name",
                "Acme",
                "--email",
                "ada@example.com",
                "--print-token",
            ],
        )
        .ok();
    let admin = created.stdout.trim().to_string();
    assert_eq!(created.stdout, format!("{admin}\n"));
    assert!(admin.starts_with("wdn_pat_"), "{admin}");
    let org = server
        .run(&admin, &["-o", "json", "org", "get"])
        .ok()
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // --org is required: an operator's token belongs to no organization.
    server
        .run(
            &operator,
            &["org", "add-user", "--email", "bob@example.com"],
        )
        .expect_code(2);
    let bob = server
        .run(
            &operator,
            &[
                "org",
                "add-user",
                "--org",
                &org,
                "--email",
                "bob@example.com",
                "--group",
                "read",
                "--print-token",
            ],
        )
        .ok();
    let bob_token = bob.stdout.trim().to_string();
    assert!(bob_token.starts_with("wdn_pat_"), "{}", bob.stdout);
    // Reserved keys: refused to the admin with the command that does it, granted by the
    // operator.
    server.run(&admin, &["namespaces", "create", "ml"]).ok();
    let refused = server
        .run(
            &admin,
            &["namespaces", "grant", "ml", "bob@example.com", "w:pods"],
        )
        .fails_with("403 reserved_namespace_permission");
    assert!(
        refused.stderr.contains("warden org namespace-keys"),
        "{}",
        refused.stderr
    );
    let granted = server
        .run(
            &operator,
            &[
                "org",
                "namespace-keys",
                "--org",
                &org,
                "--namespace",
                "ml",
                "--user",
                "bob@example.com",
                "--add",
                "w:pods",
            ],
        )
        .ok();
    assert!(granted.stdout.contains("w:pods"), "{}", granted.stdout);
    // The default admin changes only by the operator; then the old one may be removed.
    server
        .run(
            &operator,
            &["org", "set-default-admin", "--org", &org, "bob@example.com"],
        )
        .ok();
    let removed = server
        .run(
            &operator,
            &["org", "remove-user", "--org", &org, "ada@example.com"],
        )
        .ok();
    assert!(
        removed.stdout.contains("1 personal token(s) deleted"),
        "{}",
        removed.stdout
    );
    server
        .run(&admin, &["whoami"])
        .fails_with("401 unauthenticated");
    let me = server
        .run(&bob_token, &["-o", "json", "whoami"])
        .ok()
        .json();
    assert_eq!(me["user"]["is_default_admin"], true, "{me}");
}

/// `org create --invite`: no token is printed; the first admin is emailed a link to set their
/// password (here an `.eml` file of the outbox).
#[test]
fn org_create_invite_emails_the_first_admin_instead_of_printing_a_token() {
    let server = Server::start();
    let operator = server.operator_token();
    let run = server
        .run(
            &operator,
            &[
                "org",
                "create",
                "--name",
                "Initech",
                "--email",
                "peter@initech.example",
                "--invite",
            ],
        )
        .ok();
    assert!(
        run.stdout
            .contains("A link to set a password was emailed to peter@initech.example"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("wdn_"), "{}", run.stdout);
    let json = server
        .run(
            &operator,
            &[
                "--output=json",
                "org",
                "create",
                "--name",
                "Initrode",
                "--email",
                "bill@initrode.example",
                "--invite",
            ],
        )
        .ok()
        .json();
    assert_eq!(json["welcome_email_sent_to"], "bill@initrode.example");
    assert!(json.get("token").is_none(), "{json}");
    let email = wait_for_email(
        &server.data_dir().join("outbox"),
        "Your organization Initech is ready",
    );
    assert!(email.contains("To: <peter@initech.example>"), "{email}");
    assert!(email.contains("/password-reset?first#wdn_rst_"), "{email}");
    // A token's lifetime or printing it make no sense with --invite.
    for extra in [["--print-token", ""], ["--token-expires-in", "1h"]] {
        let mut args = vec![
            "org",
            "create",
            "--name",
            "X",
            "--email",
            "x@x.example",
            "--invite",
        ];
        args.extend(extra.iter().filter(|a| !a.is_empty()));
        let run = server.run(&operator, &args).expect_code(2);
        assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
    }
}
