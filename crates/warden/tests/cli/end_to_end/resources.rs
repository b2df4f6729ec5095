//! The journey's later steps: namespaces, clusters, tokens, the audit log, and cleaning up.

use super::Journey;
use crate::common::{strings, wait_for_email};

pub(super) fn namespaces(j: &Journey) {
    let cli = |args: &[&str]| j.cli(args);
    let namespace = cli(&[
        "namespaces",
        "create",
        "team-a",
        "--access",
        "ada@example.com=r:full,w:jobs",
        "-o",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(namespace["item"]["name"], "team-a");
    let access = &namespace["item"]["access"][0];
    assert_eq!(access["email"], "ada@example.com");
    assert!(strings(&access["permissions"]).contains(&"w:jobs".to_string()));
    assert!(cli(&["namespaces", "list"]).ok().stdout.contains("team-a"));
    assert!(cli(&["namespaces", "access", "team-a"])
        .ok()
        .stdout
        .contains("r:full,w:jobs"));
    // Grant adds to what is held, revoke removes; each says what changed.
    let granted = cli(&[
        "namespaces",
        "grant",
        "team-a",
        "ada@example.com",
        "w:deployments",
        "r:full",
    ])
    .ok();
    assert!(
        granted
            .stdout
            .contains("granted w:deployments; already held r:full"),
        "{}",
        granted.stdout
    );
    let access = cli(&["namespaces", "access", "team-a", "-o", "json"])
        .ok()
        .json();
    let mut held = strings(&access["items"][0]["permissions"]);
    held.sort();
    assert_eq!(held, ["r:full", "w:deployments", "w:jobs"]);
    let revoked = cli(&[
        "namespaces",
        "revoke",
        "team-a",
        "ada@example.com",
        "w:jobs",
        "w:deployments",
    ])
    .ok();
    assert!(
        revoked.stdout.contains("revoked w:jobs, w:deployments"),
        "{}",
        revoked.stdout
    );
    let access = cli(&["namespaces", "access", "team-a", "-o", "json"])
        .ok()
        .json();
    assert_eq!(strings(&access["items"][0]["permissions"]), ["r:full"]);
    cli(&["namespaces", "grant", "team-a", "ada@example.com", "w:job"]).expect_code(1);
    // "Add All": every grantable key of the catalog; "Remove All": none left.
    let catalog = cli(&["catalog", "-o", "json"]).ok().json();
    let mut grantable: Vec<String> = catalog["namespace_permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["reserved"] == false)
        .map(|p| p["key"].as_str().unwrap().to_string())
        .collect();
    grantable.sort();
    cli(&["namespaces", "grant", "team-a", "ada@example.com", "--all"]).ok();
    let access = cli(&["namespaces", "access", "team-a", "-o", "json"])
        .ok()
        .json();
    let mut held = strings(&access["items"][0]["permissions"]);
    held.sort();
    assert_eq!(held, grantable);
    cli(&["namespaces", "revoke", "team-a", "ada@example.com", "--all"]).ok();
    let shown = cli(&["namespaces", "get", "team-a", "-o", "json"])
        .ok()
        .json();
    assert!(shown["access"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| strings(&a["permissions"]).is_empty()));
    cli(&["namespaces", "grant", "team-a", "ada@example.com", "w:pods"])
        .fails_with("403 reserved_namespace_permission");
    // Org admins hold every key in every namespace of their org.
    cli(&["check", "me", "w:jobs", "--namespace", "team-a"]).expect_code(0);
    cli(&["namespaces", "delete", "team-a"]).ok();
    cli(&["namespaces", "get", "team-a"]).fails_with("404 not_found");
}

pub(super) fn clusters(j: &Journey) {
    let server = &j.server;
    let cli = |args: &[&str]| j.cli(args);
    let ca = server.dir.path().join("ca.pem");
    std::fs::write(
        &ca,
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let cluster = cli(&[
        "clusters",
        "create",
        "c1",
        "--api-server-url",
        "https://k8s.example.com:6443",
        "--ca-file",
        ca.to_str().unwrap(),
        "-o",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(cluster["item"]["name"], "c1");
    assert!(cluster["item"]["ca_bundle"]
        .as_str()
        .unwrap()
        .contains("BEGIN CERTIFICATE"));
    let updated = cli(&[
        "clusters",
        "update",
        "c1",
        "--api-server-url",
        "https://k8s2.example.com",
        "-o",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(
        updated["item"]["api_server_url"],
        "https://k8s2.example.com"
    );
    let listed = cli(&["clusters", "list"]).ok().stdout;
    assert!(
        listed.contains("c1") && listed.contains("https://k8s2.example.com"),
        "{listed}"
    );
    assert!(cli(&["clusters", "get", "c1"]).ok().stdout.contains("MIIB"));
    cli(&["clusters", "delete", "c1"]).ok();
    assert!(
        cli(&["clusters", "list", "-o", "json"]).ok().json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

/// Tokens: the secret is printed once and works at once. Returns the secrets made.
pub(super) fn tokens(j: &Journey) -> [String; 2] {
    let Journey { server, admin, .. } = j;
    let cli = |args: &[&str]| j.cli(args);
    let created_table = cli(&["tokens", "create", "--name", "ci", "--expires-in", "1h"]).ok();
    assert!(created_table.stdout.contains("will not be shown again"));
    let secret = created_table
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Token: "))
        .unwrap_or_else(|| panic!("{}", created_table.stdout))
        .trim()
        .to_string();
    assert!(secret.starts_with("wdn_pat_"), "{secret}");
    let me = server.run(&secret, &["whoami", "-o", "json"]).ok().json();
    assert_eq!(me["user"]["id"], admin.as_str());
    let new = cli(&[
        "tokens", "create", "--name", "ci-2", "--note", "for CI", "-o", "json",
    ])
    .ok()
    .json();
    let new_secret = new["secret"].as_str().unwrap().to_string();
    let new_id = new["token"]["id"].as_str().unwrap().to_string();
    assert!(new_secret.starts_with("wdn_pat_"));
    assert_eq!(
        server
            .run(&new_secret, &["whoami", "-o", "json"])
            .ok()
            .json()["token_id"],
        new_id.as_str()
    );
    let tokens = cli(&["tokens", "list", "-o", "json"]).ok().json();
    assert_eq!(tokens["items"].as_array().unwrap().len(), 3);
    let listed = cli(&["tokens", "list"]).ok().stdout;
    assert!(!listed.contains(&new_secret));
    // The tokens table shows each token's owner.
    let header: Vec<&str> = listed.lines().next().unwrap().split_whitespace().collect();
    assert!(header.contains(&"OWNER"), "{listed}");
    assert!(
        listed
            .lines()
            .skip(1)
            .all(|l| l.contains("ada@example.com")),
        "{listed}"
    );
    let got = cli(&["tokens", "get", &new_id, "-o", "json"]).ok().json();
    assert_eq!(got["note"], "for CI");
    assert_eq!(got["owner"]["kind"], "user");
    assert_eq!(got["owner"]["id"], admin.as_str());
    let shown = cli(&["tokens", "get", &new_id]).ok().stdout;
    assert!(shown.contains("user ada@example.com ("), "{shown}");
    // Without --mail-dir, the server writes its emails into the data directory's outbox.
    let email = wait_for_email(&server.data_dir().join("outbox"), &new_id);
    assert!(email.contains("To: <ada@example.com>"), "{email}");
    cli(&["tokens", "delete", &new_id]).ok();
    server
        .run(&new_secret, &["whoami"])
        .fails_with("401 unauthenticated");
    cli(&["tokens", "create", "--expires-in", "2d"]).expect_code(2);

    // bad credentials
    let bad = server
        .run("wdn_pat_not-a-real-token", &["whoami"])
        .fails_with("401 unauthenticated");
    assert!(bad.stdout.is_empty());

    [secret, new_secret]
}

/// The audit log and the OpenAPI document.
pub(super) fn audit(j: &Journey) {
    let cli = |args: &[&str]| j.cli(args);
    let audit = cli(&["audit", "--limit", "5", "-o", "json"]).ok().json();
    let events = audit["items"].as_array().unwrap();
    assert_eq!(events.len(), 5);
    assert_eq!(events[0]["action"], "tokens.personal.delete");
    let all = cli(&["audit", "--limit", "1000", "-o", "json"]).ok().json();
    assert!(all["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["outcome"] == "denied" && e["error_code"] == "self_privilege_change"));
    let audit = cli(&["audit", "--limit", "3"]).ok().stdout;
    assert!(audit.starts_with("SEQ"), "{audit}");
    assert_eq!(audit.lines().count(), 4, "{audit}");
    cli(&["audit", "--limit", "0"]).fails_with("422 invalid_field");
    let openapi = cli(&["openapi"]).ok().json();
    assert!(openapi["paths"]["/v1/whoami"].is_object());
}

/// Clean-up order: policies naming a group first. The server never logs secrets.
pub(super) fn clean_up(j: &Journey, secrets: &[String; 2]) {
    let cli = |args: &[&str]| j.cli(args);
    cli(&["policies", "delete", "ml-inference"]).ok();
    cli(&["groups", "delete", "ml"]).ok();
    cli(&["groups", "get", "ml"]).fails_with("404 not_found");
    cli(&["groups", "delete", "admin"]).fails_with("409 legacy_group_protected");

    // The server never logs secrets.
    let log = j.server.log();
    assert!(log.contains("warden started"), "{log}");
    for secret in [&j.token, &secrets[0], &secrets[1]] {
        assert!(
            !log.contains(secret.as_str()),
            "a secret is in the server log"
        );
    }
}
