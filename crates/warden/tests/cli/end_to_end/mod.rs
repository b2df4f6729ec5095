//! The journey: a real server over a temporary SQLite data directory, an organization
//! created with `warden org create` beside the running server, and every client command
//! driven through the command line, area by area, each step building on the last.

use serde_json::{json, Value};

use crate::common::{create_org, strings, Run, Server};

use self::resources::{audit, clean_up, clusters, namespaces, tokens};

mod resources;

/// What the journey's steps share: the server, and the organization created beside it
/// with its first admin's token.
pub(super) struct Journey {
    pub(super) server: Server,
    pub(super) created: Value,
    pub(super) token: String,
    pub(super) org_id: String,
    pub(super) admin: String,
}

impl Journey {
    /// A client command as the first admin.
    pub(super) fn cli(&self, args: &[&str]) -> Run {
        self.server.run(&self.token, args)
    }
}

#[test]
fn the_cli_drives_a_real_server_end_to_end() {
    let server = Server::start();

    // An organization created directly in the store while the server runs: the server finds
    // the token on first use.
    let created = create_org(&server, "ada@example.com");
    let token = created["token"].as_str().unwrap().to_string();
    let org_id = created["organization_id"].as_str().unwrap().to_string();
    let admin = created["admin_user_id"].as_str().unwrap().to_string();
    assert!(token.starts_with("wdn_pat_"), "{created}");
    assert_eq!(created["admin_email"], "ada@example.com");
    let j = Journey {
        server,
        created,
        token,
        org_id,
        admin,
    };

    identity(&j);
    users(&j);
    groups(&j);
    let policy_revision = policies(&j);
    catalog(&j);
    decisions(&j, &policy_revision);
    namespaces(&j);
    clusters(&j);
    let secrets = tokens(&j);
    audit(&j);
    clean_up(&j, &secrets);
}

/// whoami and the organization.
fn identity(j: &Journey) {
    let Journey {
        created,
        org_id,
        admin,
        ..
    } = j;
    let cli = |args: &[&str]| j.cli(args);
    let me = cli(&["whoami", "--output", "json"]).ok().json();
    assert_eq!(me["organization_id"], org_id.as_str());
    assert_eq!(me["user"]["email"], "ada@example.com");
    assert_eq!(me["principal"]["kind"], "user");
    assert_eq!(me["principal"]["id"], admin.as_str());
    assert_eq!(me["principal"]["name"], "ada@example.com");
    assert_eq!(me["token_id"], created["token_id"]);
    assert!(strings(&me["actions"]).contains(&"iam.users.invite".to_string()));
    let shown = cli(&["whoami"]).ok().stdout;
    assert!(shown.contains("ada@example.com"), "{shown}");
    assert!(shown.starts_with("User:"), "{shown}");
    let renamed = cli(&["org", "rename", "Acme Labs", "-o", "json"])
        .ok()
        .json();
    assert_eq!(renamed["item"]["name"], "Acme Labs");
    let org = cli(&["org", "get", "-o", "json"]).ok().json();
    assert_eq!(org["name"], "Acme Labs");
    assert_eq!(org["default_admin"], admin.as_str());
    assert!(cli(&["org", "get"]).ok().stdout.contains("Acme Labs"));
}

fn users(j: &Journey) {
    let admin = &j.admin;
    let cli = |args: &[&str]| j.cli(args);
    let table = cli(&["users", "list"]).ok().stdout;
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["ID", "EMAIL", "STATUS", "GROUPS", "ADMIN"]);
    let row = lines.next().unwrap();
    for cell in [admin.as_str(), "ada@example.com", "active", "admin", "yes"] {
        assert!(row.contains(cell), "{row}");
    }
    let users = cli(&["users", "list", "--status", "active", "-o", "json"])
        .ok()
        .json();
    assert_eq!(users["items"].as_array().unwrap().len(), 1);
    let none = cli(&["users", "list", "--status", "deactivated", "-o", "json"])
        .ok()
        .json();
    assert!(none["items"].as_array().unwrap().is_empty());
    let user = cli(&["users", "get", "ada@example.com", "-o", "json"])
        .ok()
        .json();
    assert_eq!(user["id"], admin.as_str());
    assert_eq!(user["is_default_admin"], true);
    let updated = cli(&[
        "users",
        "update",
        "ada@example.com",
        "--last-name",
        "Byron",
        "-o",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(updated["item"]["last_name"], "Byron");
    assert_eq!(updated["item"]["first_name"], "Ada");
    // The only (and default) admin cannot be deactivated.
    let refused = cli(&["users", "deactivate", "ada@example.com"]).expect_code(1);
    assert!(refused.stderr.starts_with("error: 403 ") || refused.stderr.starts_with("error: 409 "));
    let permissions = cli(&["users", "permissions", admin, "-o", "json"])
        .ok()
        .json();
    assert!(permissions["actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["action"] == "iam.users.invite"));
    assert!(cli(&["users", "permissions", "ada@example.com"])
        .ok()
        .stdout
        .contains("policy `admin`"));
    cli(&["users", "get", "nobody@example.com"]).fails_with("404 not_found");
}

fn groups(j: &Journey) {
    let cli = |args: &[&str]| j.cli(args);
    let group = cli(&[
        "groups",
        "create",
        "ml",
        "--description",
        "ML team",
        "-o",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(group["item"]["name"], "ml");
    assert_eq!(group["item"]["legacy"], false);
    cli(&["groups", "create", "ml"]).fails_with("409 ");
    let listed = cli(&["groups", "list"]).ok().stdout;
    assert!(
        listed
            .lines()
            .any(|l| l.contains(" ml ") && l.contains("ML team")),
        "{listed}"
    );
    assert_eq!(listed.lines().count(), 1 + 6, "{listed}");
    let updated = cli(&[
        "groups",
        "update",
        "ml",
        "--description",
        "Machine learning",
        "-o",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(updated["item"]["description"], "Machine learning");
    assert_eq!(
        cli(&["groups", "get", "ml", "-o", "json"]).ok().json()["description"],
        "Machine learning"
    );
    let members = cli(&["groups", "members", "admin", "-o", "json"])
        .ok()
        .json();
    assert_eq!(members["items"][0]["email"], "ada@example.com");
    assert!(
        cli(&["groups", "members", "ml", "-o", "json"]).ok().json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

/// Policies, with --rule and --file; returns the revision of the last replace.
fn policies(j: &Journey) -> String {
    let server = &j.server;
    let cli = |args: &[&str]| j.cli(args);
    let policy = cli(&[
        "policies",
        "create",
        "--name",
        "ml-inference",
        "--description",
        "ML runs inference",
        "--rule",
        "group:ml=inference-admin,cks-viewer",
        "-o",
        "json",
    ])
    .ok()
    .json();
    let rules = &policy["item"]["rules"];
    assert_eq!(rules[0]["principal"]["kind"], "group");
    assert_eq!(rules[0]["principal"]["name"], "ml");
    assert_eq!(
        strings(&rules[0]["roles"]),
        ["inference-admin", "cks-viewer"]
    );
    let shown = cli(&["policies", "get", "ml-inference"]).ok().stdout;
    assert!(shown.contains("inference-admin,cks-viewer"), "{shown}");
    // Putting the admin in a group that now grants more is changing their own privileges.
    cli(&["groups", "add-member", "ml", "ada@example.com"]).fails_with("403 self_privilege_change");
    cli(&[
        "policies",
        "create",
        "--name",
        "mine",
        "--rule",
        "user:ada@example.com=billing-viewer",
    ])
    .fails_with("403 self_privilege_change");
    cli(&[
        "policies",
        "create",
        "--name",
        "bad",
        "--rule",
        "group:ml=no-such-role",
    ])
    .fails_with("422 unknown_role");
    let file = server.dir.path().join("policy.json");
    std::fs::write(
        &file,
        json!({
            "name": "ml-inference",
            "description": "from a file",
            "rules": [{"principal": {"kind": "group", "id": "ml"}, "roles": ["inference-viewer"]}]
        })
        .to_string(),
    )
    .unwrap();
    let replaced = cli(&[
        "policies",
        "replace",
        "ml-inference",
        "--file",
        file.to_str().unwrap(),
        "-o",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(replaced["item"]["description"], "from a file");
    assert_eq!(
        strings(&replaced["item"]["rules"][0]["roles"]),
        ["inference-viewer"]
    );
    // --rule alone does not replace every rule: --replace-rules says so.
    let refused = cli(&[
        "policies",
        "replace",
        "ml-inference",
        "--rule",
        "group:ml=cks-viewer",
    ])
    .expect_code(1);
    assert!(
        refused.stderr.contains("--replace-rules"),
        "{}",
        refused.stderr
    );
    // With it, name and description are kept and the rules replaced.
    let replaced = cli(&[
        "policies",
        "replace",
        "ml-inference",
        "--replace-rules",
        "--rule",
        "group:ml=cks-viewer",
        "-o",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(replaced["item"]["name"], "ml-inference");
    assert_eq!(replaced["item"]["description"], "from a file");
    assert_eq!(
        strings(&replaced["item"]["rules"][0]["roles"]),
        ["cks-viewer"]
    );
    // A new description keeps the rules.
    let described = cli(&[
        "policies",
        "replace",
        "ml-inference",
        "--description",
        "ML inference",
        "-o",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(described["item"]["description"], "ML inference");
    assert_eq!(described["item"]["rules"], replaced["item"]["rules"]);
    // One rule added, the others kept.
    let added = cli(&[
        "policies",
        "add-rule",
        "ml-inference",
        "group:ml=inference-viewer",
    ])
    .ok();
    assert!(
        added
            .stdout
            .contains("Added rule 2 to policy `ml-inference`"),
        "{}",
        added.stdout
    );
    let shown = cli(&["policies", "get", "ml-inference", "-o", "json"])
        .ok()
        .json();
    assert_eq!(shown["rules"].as_array().unwrap().len(), 2);
    assert_eq!(strings(&shown["rules"][0]["roles"]), ["cks-viewer"]);
    cli(&[
        "policies",
        "add-rule",
        "ml-inference",
        "group:ml=inference-viewer",
    ])
    .expect_code(1);
    // Rules are numbered from 1, as explanations number them; one removed by number ...
    let table = cli(&["policies", "get", "ml-inference"]).ok().stdout;
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("2 ") && l.contains("inference-viewer")),
        "{table}"
    );
    let removed = cli(&["policies", "remove-rule", "ml-inference", "--index", "2"]).ok();
    assert!(
        removed
            .stdout
            .contains("rule 2: group ml → inference-viewer"),
        "{}",
        removed.stdout
    );
    // ... or by principal; a rule that is not there is an error.
    let missing = cli(&["policies", "remove-rule", "ml-inference", "group:ops"]).expect_code(1);
    assert!(
        missing.stderr.contains("has no rule naming group `ops`"),
        "{}",
        missing.stderr
    );
    cli(&["policies", "remove-rule", "ml-inference", "--index", "9"]).expect_code(1);
    cli(&["policies", "remove-rule", "ml-inference", "group:ml"]).ok();
    assert!(cli(&["policies", "get", "ml-inference", "-o", "json"])
        .ok()
        .json()["rules"]
        .as_array()
        .unwrap()
        .is_empty());
    let replaced = cli(&[
        "policies",
        "add-rule",
        "ml-inference",
        "group:ml=cks-viewer",
        "-o",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(replaced["item"]["description"], "ML inference");
    let policies = cli(&["policies", "list", "-o", "json"]).ok().json();
    assert_eq!(policies["items"].as_array().unwrap().len(), 6);
    cli(&["policies", "delete", "admin"]).fails_with("409 default_policy_protected");

    replaced["revision"].as_u64().unwrap().to_string()
}

/// Roles and the catalog.
fn catalog(j: &Journey) {
    let cli = |args: &[&str]| j.cli(args);
    let roles = cli(&["roles", "list"]).ok().stdout;
    assert_eq!(roles.lines().count(), 1 + 20, "{roles}");
    assert!(roles.lines().next().unwrap().starts_with("ID"));
    let roles = cli(&["roles", "list", "-o", "json"]).ok().json();
    assert_eq!(roles["items"].as_array().unwrap().len(), 20);
    assert!(cli(&["roles", "get", "iam-admin"])
        .ok()
        .stdout
        .contains("iam.users.invite"));
    cli(&["roles", "get", "no-such-role"]).fails_with("404 not_found");
    let catalog = cli(&["catalog", "-o", "json"]).ok().json();
    assert_eq!(catalog["roles"].as_array().unwrap().len(), 20);
    assert!(catalog["namespace_permissions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["key"] == "r:full"));
    assert!(cli(&["catalog"]).ok().stdout.contains("LEGACY GROUPS (5)"));
}

/// Checks and who-can; `revision` is a write's, which a check may ask to see.
fn decisions(j: &Journey, revision: &str) {
    let admin = &j.admin;
    let cli = |args: &[&str]| j.cli(args);
    let allowed = cli(&["check", "ada@example.com", "iam.users.invite"]).expect_code(0);
    assert!(allowed.stdout.starts_with("ALLOW"), "{}", allowed.stdout);
    let denied = cli(&["check", "ada@example.com", "inference.deployments.create"]).expect_code(3);
    assert!(denied.stdout.starts_with("DENY"), "{}", denied.stdout);
    assert!(
        denied.stdout.contains("no_matching_rule"),
        "{}",
        denied.stdout
    );
    let explained = cli(&["check", admin.as_str(), "iam.users.invite", "--explain"]).expect_code(0);
    assert!(
        explained.stdout.contains("Granted by:"),
        "{}",
        explained.stdout
    );
    assert!(
        explained.stdout.contains("allowed: `ada@example.com` holds `iam-admin` (policy `admin`, rule 1, through group `admin`)"),
        "{}",
        explained.stdout
    );
    let grant_row = explained
        .stdout
        .split("Granted by:")
        .nth(1)
        .and_then(|table| table.lines().find(|l| l.contains("iam-admin")))
        .unwrap_or_else(|| panic!("{}", explained.stdout));
    assert!(grant_row.starts_with("admin "), "{grant_row}");
    // A typo is an error (exit code 1) with the name meant, never a denial (exit code 3).
    let typo = cli(&["check", "ada@example.com", "iam.users.invit"]).expect_code(1);
    assert!(
        typo.stderr.contains("did you mean `iam.users.invite`?"),
        "{}",
        typo.stderr
    );
    let stranger = cli(&["check", "ada@exmple.com", "iam.users.invite"]).expect_code(1);
    assert!(
        stranger.stderr.contains("unknown_principal"),
        "{}",
        stranger.stderr
    );
    let explained = cli(&["check", "me", "iam.users.invite", "--explain", "-o", "json"])
        .expect_code(0)
        .json();
    let sources = explained["results"][0]["granted_by"].as_array().unwrap();
    assert!(sources
        .iter()
        .any(|s| s["policy_name"] == "admin" && s["role_id"] == "iam-admin"));
    // JSON output keeps the exit code.
    let denied = cli(&["check", "me", "billing.invoices.list", "-o", "json"])
        .expect_code(3)
        .json();
    assert_eq!(denied["results"][0]["allowed"], false);
    cli(&[
        "check",
        "me",
        "iam.users.list",
        "--at-least-revision",
        revision,
    ])
    .expect_code(0);
    // An unknown principal is an error in the question (exit code 1), not a denial.
    cli(&["check", "usr_nobody", "iam.users.list"]).fails_with("422 unknown_principal");
    cli(&["check", "me", "no.such.action"]).fails_with("422 unknown_action");
    let who = cli(&["who-can", "iam.users.invite", "-o", "json"])
        .ok()
        .json();
    assert_eq!(strings(&who["principals"]), [admin.as_str()]);
    assert!(cli(&["who-can", "iam.users.invite"])
        .ok()
        .stdout
        .contains("ada@example.com"));
}
