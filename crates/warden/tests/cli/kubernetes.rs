//! Kubernetes Managed Auth from the command line, checked by Kubernetes' own tools: every
//! kubeconfig a token's creation writes, and every webhook configuration, is read by
//! `kubectl config view` and `kubectl config get-contexts`; every exported RBAC object passes
//! `kubernetes-validate --strict`. Outside CI a missing tool skips (loudly); with `CI=true` it
//! fails.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::common::{add_user, create_org, Server};
use crate::mail::{nothing_missing, works};

const CA: &str =
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUWardenTestCA\n-----END CERTIFICATE-----\n";
/// The Kubernetes version whose schemas validate the export.
const KUBERNETES: &str = "1.32.0";

fn tools_present() -> bool {
    let mut missing = Vec::new();
    if !works("kubectl", &["version", "--client"]) {
        missing.push("kubectl (apt-get install kubernetes-client)");
    }
    if !works("kubernetes-validate", &["--version"]) {
        missing.push("kubernetes-validate (pip install kubernetes-validate==1.32.0)");
    }
    nothing_missing("a Kubernetes test", &missing)
}

/// Runs a tool; its stdout, or a panic with what it said.
fn tool(program: &str, args: &[&str]) -> String {
    let output = Command::new(program).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "`{program} {}` failed:\n{stdout}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// `kubectl` accepts the file as a kubeconfig; the names of its contexts.
fn kubectl_contexts(file: &Path) -> Vec<String> {
    let path = file.to_str().unwrap();
    tool("kubectl", &["config", "view", "--kubeconfig", path]);
    tool(
        "kubectl",
        &["config", "get-contexts", "--kubeconfig", path, "-o", "name"],
    )
    .lines()
    .map(str::to_string)
    .collect()
}

fn mode(file: &Path) -> u32 {
    std::fs::metadata(file).unwrap().permissions().mode() & 0o777
}

/// An organization with namespaces `ml` and `team`, clusters `prod` and `dev`.
fn org_with_clusters(server: &Server) -> (String, String) {
    let created = create_org(server, "ada@example.com");
    let ada = created["token"].as_str().unwrap().to_string();
    let org = created["organization_id"].as_str().unwrap().to_string();
    for ns in ["ml", "team"] {
        server.run(&ada, &["namespaces", "create", ns]).ok();
    }
    for (name, url) in [
        ("prod", "https://prod.example.com:6443"),
        ("dev", "https://dev.example.com"),
    ] {
        let ca = server.data_dir().join(format!("{name}-ca.pem"));
        std::fs::write(&ca, CA).unwrap();
        server
            .run(
                &ada,
                &[
                    "clusters",
                    "create",
                    name,
                    "--api-server-url",
                    url,
                    "--ca-file",
                    ca.to_str().unwrap(),
                ],
            )
            .ok();
    }
    (ada, org)
}

#[test]
fn a_new_tokens_kubeconfig_is_written_once_with_mode_0600_and_kubectl_reads_it() {
    if !tools_present() {
        return;
    }
    let server = Server::start();
    let (ada, org) = org_with_clusters(&server);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cw-kubeconfig");
    let created = server
        .run(
            &ada,
            &[
                "tokens",
                "create",
                "--name",
                "laptop",
                "--namespace",
                "ml",
                "--cluster",
                "prod",
                "--kubeconfig",
                file.to_str().unwrap(),
            ],
        )
        .ok();
    assert!(created.stdout.contains("mode 0600"), "{}", created.stdout);
    assert!(created.stdout.contains("shown again"), "{}", created.stdout);
    assert_eq!(mode(&file), 0o600);
    assert_eq!(kubectl_contexts(&file), [format!("warden-{org}-prod")]);
    let text = std::fs::read_to_string(&file).unwrap();
    let secret = created
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Token: "))
        .unwrap();
    assert!(text.contains(secret));
    // The context's namespace is the token's.
    let view = tool(
        "kubectl",
        &[
            "config",
            "view",
            "--kubeconfig",
            file.to_str().unwrap(),
            "--raw",
            "-o",
            "json",
        ],
    );
    let view: serde_json::Value = serde_json::from_str(&view).unwrap();
    assert_eq!(view["contexts"][0]["context"]["namespace"], "ml");
    assert_eq!(
        view["clusters"][0]["cluster"]["server"],
        "https://prod.example.com:6443"
    );
    // An existing file is refused before anything is created.
    let before = server
        .run(&ada, &["tokens", "list", "-o", "json"])
        .ok()
        .json();
    let refused = server
        .run(
            &ada,
            &[
                "tokens",
                "create",
                "--name",
                "again",
                "--kubeconfig",
                file.to_str().unwrap(),
            ],
        )
        .expect_code(1);
    assert!(
        refused.stderr.contains("already exists"),
        "{}",
        refused.stderr
    );
    let after = server
        .run(&ada, &["tokens", "list", "-o", "json"])
        .ok()
        .json();
    assert_eq!(before["items"], after["items"]);

    // An org token for no cluster in particular: one context per cluster of the org.
    let org_file = dir.path().join("ci-kubeconfig");
    server
        .run(
            &ada,
            &[
                "org-tokens",
                "create",
                "--name",
                "ci",
                "--namespace",
                "team",
                "--kubeconfig",
                org_file.to_str().unwrap(),
            ],
        )
        .ok();
    assert_eq!(mode(&org_file), 0o600);
    let mut contexts = kubectl_contexts(&org_file);
    contexts.sort();
    assert_eq!(
        contexts,
        [format!("warden-{org}-dev"), format!("warden-{org}-prod")]
    );
}

#[test]
fn org_tokens_are_managed_by_admins_from_the_cli() {
    let server = Server::start();
    let (ada, org) = org_with_clusters(&server);
    let bob = add_user(&server, &org, "bob@example.com", &["--group", "write"])
        .ok()
        .json();
    let bob = bob["token"].as_str().unwrap().to_string();
    server
        .run(&bob, &["org-tokens", "create", "--name", "x"])
        .fails_with("403 forbidden");
    let created = server
        .run(
            &ada,
            &[
                "org-tokens",
                "create",
                "--name",
                "ci",
                "--namespace",
                "ml",
                "-o",
                "json",
            ],
        )
        .ok()
        .json();
    let username = created["token"]["kubernetes_username"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(username.starts_with(&format!("warden:{org}:serviceaccount:")));
    let shown = server.run(&ada, &["org-tokens", "get", "ci"]).ok().stdout;
    assert!(shown.contains(&username) && shown.contains("ml"), "{shown}");
    // Blank: its rights come only from RBAC bound to its user name, and it says so.
    server
        .run(&ada, &["org-tokens", "update", "ci", "--no-namespaces"])
        .ok();
    let shown = server.run(&ada, &["org-tokens", "get", "ci"]).ok().stdout;
    assert!(shown.contains("blank token"), "{shown}");
    server
        .run(&ada, &["org-tokens", "update", "ci"])
        .expect_code(1);
    let listed = server
        .run(&ada, &["org-tokens", "created-by", "ada@example.com"])
        .ok();
    assert!(listed.stdout.contains("ci"), "{}", listed.stdout);
    server
        .run(
            &ada,
            &["org-tokens", "revoke-created-by", "ada@example.com"],
        )
        .ok();
    let listed = server
        .run(&ada, &["org-tokens", "list", "-o", "json"])
        .ok()
        .json();
    assert!(listed["items"].as_array().unwrap().is_empty());
    server
        .run(&ada, &["org-tokens", "get", "ci"])
        .expect_code(1);
}

#[test]
fn the_rbac_export_validates_and_a_change_diffs_to_exactly_that_change() {
    if !tools_present() {
        return;
    }
    let server = Server::start();
    let (ada, org) = org_with_clusters(&server);
    add_user(&server, &org, "bob@example.com", &["--group", "write"]).ok();
    server
        .run(
            &ada,
            &[
                "namespaces",
                "grant",
                "team",
                "bob@example.com",
                "w:deployments",
            ],
        )
        .ok();
    server
        .run(
            &ada,
            &["org-tokens", "create", "--name", "ci", "--namespace", "ml"],
        )
        .ok();
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before.yaml");
    server
        .run(
            &ada,
            &[
                "k8s",
                "rbac",
                "--cluster",
                "prod",
                "--out",
                before.to_str().unwrap(),
            ],
        )
        .ok();
    let validated = tool(
        "kubernetes-validate",
        &["--strict", "-k", KUBERNETES, before.to_str().unwrap()],
    );
    assert!(!validated.contains("ERROR"), "{validated}");
    let text = std::fs::read_to_string(&before).unwrap();
    for expected in [
        "kind: \"ClusterRoleBinding\"",
        "kind: \"RoleBinding\"",
        "kind: \"Role\"",
        &format!("warden:{org}:group:write"),
        &format!("warden:{org}:user:bob@example.com"),
        &format!("warden:{org}:serviceaccount:"),
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    // One more key for Bob: the re-export differs by exactly the lines that say so.
    server
        .run(
            &ada,
            &["namespaces", "grant", "team", "bob@example.com", "w:jobs"],
        )
        .ok();
    let after = server
        .run(&ada, &["k8s", "rbac", "--cluster", "prod"])
        .ok()
        .stdout;
    let old: Vec<&str> = text.lines().collect();
    let new: Vec<&str> = after.lines().collect();
    let removed: Vec<&&str> = old.iter().filter(|l| !new.contains(l)).collect();
    assert!(removed.is_empty(), "lines gone: {removed:?}");
    let added: Vec<&&str> = new.iter().filter(|l| !old.contains(l)).collect();
    assert!(!added.is_empty());
    assert!(
        added.iter().any(|l| l.contains("w:jobs")),
        "added lines: {added:?}"
    );
    assert!(
        after.starts_with(old.first().unwrap()),
        "the order is stable"
    );
}

#[test]
fn webhook_configuration_files_are_kubeconfigs_kubectl_reads() {
    if !tools_present() {
        return;
    }
    let server = Server::start();
    let (ada, _) = org_with_clusters(&server);
    let dir = tempfile::tempdir().unwrap();
    let out = server
        .run(
            &ada,
            &[
                "k8s",
                "webhook-config",
                "--cluster",
                "prod",
                "--dir",
                dir.path().to_str().unwrap(),
            ],
        )
        .ok();
    for flag in [
        "--authentication-token-webhook-config-file=",
        "--authorization-webhook-config-file=",
        "--authorization-mode=Node,Webhook,RBAC",
    ] {
        assert!(out.stdout.contains(flag), "{}", out.stdout);
    }
    for file in [
        "authentication-webhook.kubeconfig",
        "authorization-webhook.kubeconfig",
    ] {
        let path = dir.path().join(file);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(kubectl_contexts(&path), ["webhook"]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("/k8s/"), "{text}");
    }
    // Existing files are refused: the cluster's credential is not replaced.
    let again = server
        .run(
            &ada,
            &[
                "k8s",
                "webhook-config",
                "--cluster",
                "prod",
                "--dir",
                dir.path().to_str().unwrap(),
            ],
        )
        .expect_code(1);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
}
