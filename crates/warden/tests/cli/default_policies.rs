//! `warden policies set-roles` and `warden policies reset`: an admin changes the roles of a
//! default policy and sees how they differ from the catalog; only an operator (`--org`)
//! changes those of `admin`.

use crate::common::{create_org, Server};

#[test]
fn default_policy_roles_change_show_against_the_catalog_and_reset() {
    let server = Server::start();
    let created = create_org(&server, "ada@example.com");
    let org = created["organization_id"].as_str().unwrap();
    let admin = created["token"].as_str().unwrap();
    // "Add the relevant role" to `read`.
    let set = server
        .run(
            admin,
            &[
                "policies",
                "set-roles",
                "read",
                "--role",
                "iam-viewer,cks-viewer",
                "--role",
                "inference-viewer",
            ],
        )
        .ok();
    assert!(
        set.stdout.contains(
            "Policy `read` now gives group `read`: iam-viewer, cks-viewer, inference-viewer"
        ),
        "{}",
        set.stdout
    );
    assert!(
        set.stdout.contains("+ added:   inference-viewer"),
        "{}",
        set.stdout
    );
    assert!(
        set.stdout.contains("- removed: access-token-viewer"),
        "{}",
        set.stdout
    );
    let list = server.run(admin, &["policies", "list"]).ok();
    assert!(
        list.stdout.contains("read (roles changed)"),
        "{}",
        list.stdout
    );
    let json = server
        .run(admin, &["--output=json", "policies", "get", "read"])
        .ok()
        .json();
    assert_eq!(
        json["catalog_difference"]["roles_added"],
        serde_json::json!(["inference-viewer"])
    );
    // A typo in a role is named, with what was meant.
    let typo = server
        .run(
            admin,
            &[
                "policies",
                "set-roles",
                "read",
                "--role",
                "inference-veiwer",
            ],
        )
        .fails_with("422 unknown_role");
    assert!(typo.stderr.contains("inference-viewer"), "{}", typo.stderr);
    // Reset restores the catalog's roles.
    let reset = server.run(admin, &["policies", "reset", "read"]).ok();
    assert!(
        reset
            .stdout
            .contains("Reset policy `read` to the catalog's roles"),
        "{}",
        reset.stdout
    );
    assert!(
        reset.stdout.contains("exactly the catalog's roles"),
        "{}",
        reset.stdout
    );
    // Custom policies have no catalog roles.
    server
        .run(
            admin,
            &[
                "policies",
                "create",
                "--name",
                "ml",
                "--rule",
                "group:read=cks-viewer",
            ],
        )
        .ok();
    let custom = server
        .run(admin, &["policies", "reset", "ml"])
        .fails_with("409 not_a_default_policy");
    assert!(
        custom.stderr.contains("warden policies get ml"),
        "{}",
        custom.stderr
    );
    let custom = server
        .run(
            admin,
            &["policies", "set-roles", "ml", "--role", "cks-viewer"],
        )
        .expect_code(1);
    assert!(
        custom.stderr.contains("not a default policy"),
        "{}",
        custom.stderr
    );
    // The admin's own group: refused, and the error names the way that works.
    let own = server
        .run(
            admin,
            &[
                "policies",
                "set-roles",
                "admin",
                "--role",
                "iam-admin,cks-admin,object-storage-admin,access-token-admin,\
                 access-request-approver,inference-admin",
            ],
        )
        .fails_with("403 self_privilege_change");
    assert!(
        own.stderr.contains("warden policies set-roles admin --org"),
        "{}",
        own.stderr
    );
    let operator = server.operator_token();
    let by_operator = server
        .run(
            &operator,
            &[
                "policies",
                "set-roles",
                "admin",
                "--org",
                org,
                "--role",
                "iam-admin,cks-admin,object-storage-admin,access-token-admin,\
                 access-request-approver,inference-admin",
            ],
        )
        .ok();
    assert!(
        by_operator.stdout.contains("+ added:   inference-admin"),
        "{}",
        by_operator.stdout
    );
    server
        .run(&operator, &["policies", "reset", "admin", "--org", org])
        .ok();
    let json = server
        .run(admin, &["--output=json", "policies", "get", "admin"])
        .ok()
        .json();
    assert_eq!(
        json["catalog_difference"]["roles_added"],
        serde_json::json!([])
    );
}
