//! `warden service-accounts` (`sa`): a platform operator (`--org`) creates, lists, shows,
//! renames, deactivates, reactivates and deletes service accounts; an organization's admin
//! lists and shows them, names one in a rule by its name, and is told, when they try to
//! manage one, that it is privileged and how it is done.

use crate::common::{create_org, Server};

#[test]
fn an_operator_manages_service_accounts_and_an_admin_reads_them() {
    let server = Server::start();
    let created = create_org(&server, "ada@example.com");
    let org = created["organization_id"].as_str().unwrap();
    let admin = created["token"].as_str().unwrap();
    let operator = server.operator_token();

    let made = server
        .run(
            &operator,
            &["service-accounts", "create", "ci-deployer", "--org", org],
        )
        .ok();
    assert!(made.stdout.contains("ci-deployer"), "{}", made.stdout);
    assert!(made.stdout.contains("platform"), "{}", made.stdout);
    let json = server
        .run(&operator, &["-o", "json", "sa", "list", "--org", org])
        .ok()
        .json();
    let id = json["items"][0]["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("sa_"), "{json}");
    assert_eq!(json["items"][0]["active"], true);
    assert_eq!(json["items"][0]["token_count"], 0);

    // The admin names it in a rule by its name, and sees it (and the rule) in `get`.
    server
        .run(
            admin,
            &[
                "policies",
                "create",
                "--name",
                "deployers",
                "--rule",
                "service_account:ci-deployer=cks-viewer",
            ],
        )
        .ok();
    let check = server.run(admin, &["check", &id, "cks.clusters.list"]).ok();
    assert!(check.stdout.contains("ALLOW"), "{}", check.stdout);
    let list = server.run(admin, &["service-accounts", "list"]).ok();
    for want in ["ID", "NAME", "ACTIVE", "TOKENS", "ci-deployer", "yes"] {
        assert!(list.stdout.contains(want), "{want}: {}", list.stdout);
    }
    let shown = server.run(admin, &["sa", "get", "CI-Deployer"]).ok();
    for want in [
        id.as_str(),
        "Rules naming it (1)",
        "deployers",
        "cks-viewer",
        "Tokens (0)",
    ] {
        assert!(shown.stdout.contains(want), "{want}: {}", shown.stdout);
    }
    // A typo: the error names the account meant.
    let typo = server
        .run(admin, &["sa", "get", "ci-deployr"])
        .fails_with("404 not_found");
    assert!(typo.stderr.contains("ci-deployer"), "{}", typo.stderr);
    // Managing one in the organization is refused even to its admin, with the way it is done.
    let refused = server
        .run(admin, &["sa", "create", "mine"])
        .fails_with("403 forbidden");
    assert!(
        refused.stderr.contains("iam.service_accounts.create"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("--org"), "{}", refused.stderr);
    server
        .run(admin, &["sa", "update", "ci-deployer", "--deactivate"])
        .fails_with("403 forbidden");
    server
        .run(admin, &["sa", "delete", "ci-deployer"])
        .fails_with("403 forbidden");

    // The operator renames, deactivates and reactivates it.
    let renamed = server
        .run(
            &operator,
            &[
                "sa",
                "update",
                "ci-deployer",
                "--name",
                "deployer",
                "--org",
                org,
            ],
        )
        .ok();
    assert!(renamed.stdout.contains("deployer"), "{}", renamed.stdout);
    let off = server
        .run(
            &operator,
            &[
                "-o",
                "json",
                "sa",
                "update",
                "deployer",
                "--deactivate",
                "--org",
                org,
            ],
        )
        .ok()
        .json();
    assert_eq!(off["item"]["active"], false);
    let denied = server.run(admin, &["check", &id, "cks.clusters.list"]);
    assert_eq!(denied.code, 3, "{}", denied.stdout);
    server
        .run(
            &operator,
            &["sa", "update", &id, "--activate", "--org", org],
        )
        .ok();
    server.run(admin, &["check", &id, "cks.clusters.list"]).ok();
    // Not a change: refused before any call.
    server
        .run(&operator, &["sa", "update", "deployer", "--org", org])
        .expect_code(2);

    // Deleted, with the rule naming it.
    let gone = server
        .run(&operator, &["sa", "delete", "deployer", "--org", org])
        .ok();
    assert!(
        gone.stdout.contains("Deleted service account `deployer`"),
        "{}",
        gone.stdout
    );
    let json = server.run(admin, &["-o", "json", "sa", "list"]).ok().json();
    assert_eq!(json["items"], serde_json::json!([]));
    let policy = server
        .run(admin, &["-o", "json", "policies", "get", "deployers"])
        .ok()
        .json();
    assert_eq!(policy["rules"], serde_json::json!([]));
    server
        .run(&operator, &["sa", "delete", "deployer", "--org", org])
        .fails_with("404 not_found");
    // An organization's token is no operator's.
    server
        .run(admin, &["sa", "list", "--org", org])
        .fails_with("401 unauthenticated");
}
