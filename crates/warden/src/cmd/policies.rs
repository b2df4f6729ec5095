//! `warden policies`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use warden_client::model::{Policy, PolicyInput, PrincipalInput, PrincipalKind, Rule, RuleInput};
use warden_client::Client;

use super::{default_policies, read_input};
use crate::cli::{split_list, Output};
use crate::output::{show, show_written, CliError};
use crate::table::{self, details, Table};

/// A policy as given on the command line: a JSON file, or a name and rules.
#[derive(Debug, Clone, Args)]
pub struct PolicySpec {
    /// JSON file with the whole policy: {"name", "description", "rules": [{"principal":
    /// {"kind", "id"}, "roles": [...]}]}; `-` reads standard input.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["name", "description", "rules"])]
    pub file: Option<PathBuf>,
    /// Policy name.
    #[arg(long)]
    pub name: Option<String>,
    /// Policy description.
    #[arg(long)]
    pub description: Option<String>,
    /// A rule `KIND:ID=ROLE[,ROLE...]`, KIND being user, group or service_account (sa) and ID
    /// an id, a group or service account name or a user email; repeat for several rules
    /// (e.g. `--rule group:ml=inference-admin,cks-viewer`, `--rule sa:ci-deployer=cks-viewer`).
    #[arg(long = "rule", value_name = "RULE", value_parser = parse_rule)]
    pub rules: Vec<RuleInput>,
}

#[derive(Debug, Subcommand)]
pub enum PoliciesCommand {
    /// List access policies (the five default policies included).
    List,
    /// Show one policy with its rules.
    Get {
        /// Policy id or name.
        policy: String,
    },
    /// Create a policy from --file, or from --name and --rule options.
    Create {
        #[command(flatten)]
        spec: PolicySpec,
    },
    /// Replace a policy from --file, or change its name or description: without --file the
    /// current name, description and rules are kept unless given. Replacing every rule is
    /// explicit: --replace-rules with the new --rule options (none: no rules at all).
    Replace {
        /// Policy id or name.
        policy: String,
        #[command(flatten)]
        spec: PolicySpec,
        /// Replace every rule of the policy with the --rule options given.
        #[arg(long, conflicts_with = "file")]
        replace_rules: bool,
    },
    /// Add one rule to a policy, keeping the others.
    AddRule {
        /// Policy id or name.
        policy: String,
        /// The rule `KIND:ID=ROLE[,ROLE...]` (e.g. `group:ml=inference-admin,cks-viewer`).
        #[arg(value_name = "RULE", value_parser = parse_rule)]
        rule: RuleInput,
    },
    /// Remove the rule(s) naming a principal, or the rule at --index, keeping the others.
    RemoveRule {
        /// Policy id or name.
        policy: String,
        /// `KIND:ID`, the principal whose rules go (ID an id, a group or service account name
        /// or a user email).
        #[arg(
            value_name = "KIND:ID",
            value_parser = parse_principal,
            required_unless_present = "index",
            conflicts_with = "index"
        )]
        principal: Option<PrincipalInput>,
        /// The rule's number, from 1, as `policies get` and check explanations show it.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        index: Option<u32>,
    },
    /// Delete a policy (default policies cannot be deleted).
    Delete {
        /// Policy id or name.
        policy: String,
    },
    /// Set the roles a default policy gives its legacy group (e.g. add a role for a newer
    /// platform feature); `policies get` shows how they differ from the catalog's.
    SetRoles {
        /// A default policy: admin, write, read, metrics or billing_viewer.
        policy: String,
        /// Role ids from `warden roles list`; repeat or separate with commas.
        #[arg(
            long = "role",
            value_name = "ROLE",
            required = true,
            value_delimiter = ','
        )]
        roles: Vec<String>,
        /// As a platform operator, in this organization (the only way to change the `admin`
        /// policy: every admin is in its group).
        #[arg(long, value_name = "ORG")]
        org: Option<String>,
    },
    /// Give every rule of a default policy the catalog's roles again.
    Reset {
        /// A default policy: admin, write, read, metrics or billing_viewer.
        policy: String,
        /// As a platform operator, in this organization.
        #[arg(long, value_name = "ORG")]
        org: Option<String>,
    },
}

pub async fn run(client: &Client, o: Output, command: PoliciesCommand) -> Result<(), CliError> {
    match command {
        PoliciesCommand::List => show(o, &client.policies().await?, |l| policy_table(&l.items)),
        PoliciesCommand::Get { policy: key } => show(o, &client.policy(&key).await?, policy),
        PoliciesCommand::Create { spec } => {
            let input = policy_input(spec)?;
            let w = client.create_policy(&input).await?;
            show_written(o, &w, "Created", policy)
        }
        PoliciesCommand::Replace {
            policy: key,
            spec,
            replace_rules,
        } => {
            let nothing = spec.file.is_none()
                && spec.name.is_none()
                && spec.description.is_none()
                && !replace_rules;
            if nothing {
                return Err(CliError::message(
                    "nothing to replace: give --name, --description, --replace-rules with \
                     --rule options, or --file",
                ));
            }
            if !spec.rules.is_empty() && !replace_rules {
                return Err(CliError::message(
                    "--rule replaces every rule of the policy: add --replace-rules to do that, \
                     or change one rule with `warden policies add-rule` or `remove-rule`",
                ));
            }
            let current = match spec.file {
                Some(_) => None,
                None => Some(client.policy(&key).await?),
            };
            let input = replace_input(spec, current.as_ref(), replace_rules)?;
            let w = client.replace_policy(&key, &input).await?;
            show_written(o, &w, "Replaced", policy)
        }
        PoliciesCommand::AddRule { policy: key, rule } => {
            let current = client.policy(&key).await?;
            let mut rules = rule_inputs(&current);
            if let Some(i) = current.rules.iter().position(|r| same_rule(r, &rule)) {
                return Err(CliError::message(format!(
                    "policy `{}` already has this rule (rule {}): nothing to add",
                    current.name,
                    i + 1
                )));
            }
            let text = describe_input(&rule);
            rules.push(rule);
            let number = rules.len();
            let w = client
                .replace_policy(&current.id, &keeping(&current, rules))
                .await?;
            show_written(o, &w, "Changed", |p| {
                format!(
                    "Added rule {number} to policy `{}` (revision {}): {text}\n",
                    p.name, w.revision
                )
            })
        }
        PoliciesCommand::RemoveRule {
            policy: key,
            principal,
            index,
        } => {
            let current = client.policy(&key).await?;
            let removed = rules_to_remove(&current, principal.as_ref(), index)?;
            let rules = rule_inputs(&current)
                .into_iter()
                .enumerate()
                .filter(|(i, _)| !removed.contains(i))
                .map(|(_, r)| r)
                .collect();
            let w = client
                .replace_policy(&current.id, &keeping(&current, rules))
                .await?;
            let lines: Vec<String> = removed
                .iter()
                .filter_map(|i| current.rules.get(*i).map(|r| (i, r)))
                .map(|(i, r)| format!("  rule {}: {}\n", i + 1, describe(r)))
                .collect();
            show_written(o, &w, "Changed", |p| {
                format!(
                    "Removed from policy `{}` (revision {}):\n{}",
                    p.name,
                    w.revision,
                    lines.concat()
                )
            })
        }
        PoliciesCommand::Delete { policy: key } => {
            let w = client.delete_policy(&key).await?;
            show_written(o, &w, &format!("Deleted policy `{key}`"), policy)
        }
        PoliciesCommand::SetRoles {
            policy: key,
            roles,
            org,
        } => default_policies::set_roles(client, o, &key, roles, org.as_deref()).await,
        PoliciesCommand::Reset { policy: key, org } => {
            default_policies::reset(client, o, &key, org.as_deref()).await
        }
    }
}

/// Parses `KIND:ID=ROLE[,ROLE...]`.
pub fn parse_rule(text: &str) -> Result<RuleInput, String> {
    let usage = "expected KIND:ID=ROLE[,ROLE...], e.g. group:ml=inference-admin,cks-viewer";
    let (principal, roles) = text.rsplit_once('=').ok_or(usage)?;
    let (kind, id) = principal.split_once(':').ok_or(usage)?;
    let kind = principal_kind(kind)?;
    let id = id.trim();
    if id.is_empty() {
        return Err(format!("the principal is empty; {usage}"));
    }
    let roles = split_list(roles);
    if roles.is_empty() {
        return Err(format!("no roles given; {usage}"));
    }
    Ok(RuleInput {
        principal: PrincipalInput {
            kind,
            id: id.to_string(),
        },
        roles,
        expires_at: None,
    })
}

/// Parses `KIND:ID`.
pub fn parse_principal(text: &str) -> Result<PrincipalInput, String> {
    let usage = "expected KIND:ID, e.g. group:ml or user:ada@example.com";
    let (kind, id) = text.split_once(':').ok_or(usage)?;
    let kind = principal_kind(kind)?;
    let id = id.trim();
    if id.is_empty() {
        return Err(format!("the principal is empty; {usage}"));
    }
    Ok(PrincipalInput {
        kind,
        id: id.to_string(),
    })
}

fn principal_kind(kind: &str) -> Result<PrincipalKind, String> {
    match kind.trim() {
        "user" => Ok(PrincipalKind::User),
        "group" => Ok(PrincipalKind::Group),
        "service_account" | "service-account" | "sa" => Ok(PrincipalKind::ServiceAccount),
        other => Err(format!(
            "unknown principal kind `{other}`: use user, group or service_account"
        )),
    }
}

/// A policy's rules as a replace sends them back.
pub(super) fn rule_inputs(policy: &Policy) -> Vec<RuleInput> {
    policy
        .rules
        .iter()
        .map(|r| RuleInput {
            principal: PrincipalInput {
                kind: r.principal.kind,
                id: r.principal.id.clone(),
            },
            roles: r.roles.clone(),
            expires_at: r.expires_at,
        })
        .collect()
}

/// `policy` with other rules: its name and description unchanged.
pub(super) fn keeping(policy: &Policy, rules: Vec<RuleInput>) -> PolicyInput {
    PolicyInput {
        name: policy.name.clone(),
        description: policy.description.clone(),
        rules,
    }
}

/// Whether `rule` names `principal` (by id, or by name: a group's name, a user's email).
fn names(rule: &Rule, principal: &PrincipalInput) -> bool {
    rule.principal.kind == principal.kind
        && (rule.principal.id == principal.id
            || (!rule.principal.name.is_empty()
                && rule.principal.name.to_lowercase() == principal.id.to_lowercase()))
}

/// Whether `new` says what `rule` already says: the same principal, roles and end.
fn same_rule(rule: &Rule, new: &RuleInput) -> bool {
    let mut held = rule.roles.clone();
    let mut given = new.roles.clone();
    held.sort();
    given.sort();
    names(rule, &new.principal) && held == given && rule.expires_at == new.expires_at
}

/// The positions (from 0) of the rules `remove-rule` takes out.
fn rules_to_remove(
    policy: &Policy,
    principal: Option<&PrincipalInput>,
    index: Option<u32>,
) -> Result<Vec<usize>, CliError> {
    if let Some(n) = index {
        let i = usize::try_from(n).unwrap_or(usize::MAX).saturating_sub(1);
        if i >= policy.rules.len() || n == 0 {
            return Err(CliError::message(format!(
                "policy `{}` has no rule {n} (it has {} rule{})",
                policy.name,
                policy.rules.len(),
                if policy.rules.len() == 1 { "" } else { "s" }
            )));
        }
        return Ok(vec![i]);
    }
    let Some(principal) = principal else {
        return Err(CliError::message(
            "name the rule's principal (KIND:ID) or give --index",
        ));
    };
    let found: Vec<usize> = policy
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| names(r, principal))
        .map(|(i, _)| i)
        .collect();
    if found.is_empty() {
        return Err(CliError::message(format!(
            "policy `{}` has no rule naming {} `{}`: nothing was removed",
            policy.name,
            principal.kind.as_str(),
            principal.id
        )));
    }
    Ok(found)
}

/// `group ml → inference-admin,cks-viewer`, and its end if it has one.
fn describe(rule: &Rule) -> String {
    let name = if rule.principal.name.is_empty() {
        &rule.principal.id
    } else {
        &rule.principal.name
    };
    let until = rule
        .expires_at
        .map(|at| format!(" until {}", table::time(at)))
        .unwrap_or_default();
    format!(
        "{} {name} → {}{until}",
        rule.principal.kind.as_str(),
        rule.roles.join(",")
    )
}

fn describe_input(rule: &RuleInput) -> String {
    format!(
        "{} {} → {}",
        rule.principal.kind.as_str(),
        rule.principal.id,
        rule.roles.join(",")
    )
}

/// What a replace without --file sends: the current policy with the name and description
/// given, and its rules unless `replace_rules` (then the --rule options, maybe none).
fn replace_input(
    spec: PolicySpec,
    current: Option<&Policy>,
    replace_rules: bool,
) -> Result<PolicyInput, CliError> {
    if spec.file.is_some() {
        return policy_input(spec);
    }
    let Some(current) = current else {
        return Err(CliError::message(
            "the current policy is needed to replace it",
        ));
    };
    let rules = if replace_rules {
        spec.rules
    } else {
        rule_inputs(current)
    };
    Ok(PolicyInput {
        name: spec.name.unwrap_or_else(|| current.name.clone()),
        description: spec
            .description
            .unwrap_or_else(|| current.description.clone()),
        rules,
    })
}

/// The policy a create sends (from --file, or --name and --rule options).
fn policy_input(spec: PolicySpec) -> Result<PolicyInput, CliError> {
    if let Some(path) = &spec.file {
        let text = read_input(path)?;
        return serde_json::from_str(&text).map_err(|e| {
            CliError::message(format!(
                "{} is not a policy (JSON with name, description, rules): {e}",
                path.display()
            ))
        });
    }
    let Some(name) = spec.name else {
        return Err(CliError::message(
            "give --file, or --name with --rule options",
        ));
    };
    Ok(PolicyInput {
        name,
        description: spec.description.unwrap_or_default(),
        rules: spec.rules,
    })
}

fn policy_table(policies: &[Policy]) -> String {
    let mut t = Table::new(&["ID", "NAME", "RULES", "DEFAULT FOR", "DESCRIPTION"]);
    for p in policies {
        t.row(vec![
            p.id.clone(),
            p.name.clone(),
            p.rules.len().to_string(),
            default_policies::default_for(p),
            p.description.clone(),
        ]);
    }
    t.render()
}

pub(super) fn policy(p: &Policy) -> String {
    let mut text = details(&[
        ("ID", p.id.clone()),
        ("Name", p.name.clone()),
        ("Description", p.description.clone()),
        (
            "Default for",
            p.default_for_group.clone().unwrap_or_default(),
        ),
        ("Created", table::time(p.created_at)),
        ("Updated", table::time(p.updated_at)),
    ]);
    text.push_str(&default_policies::difference_lines(p));
    text.push('\n');
    // Time-bound rules add a column (absent when no rule has an end).
    let bounded = p.rules.iter().any(|r| r.expires_at.is_some());
    let mut headers = vec!["#", "KIND", "PRINCIPAL", "ID", "ROLES"];
    if bounded {
        headers.push("EXPIRES");
    }
    let mut t = Table::new(&headers);
    // Numbered from 1, as check explanations and `remove-rule --index` number them.
    for (i, r) in p.rules.iter().enumerate() {
        t.row(vec![
            (i + 1).to_string(),
            r.principal.kind.as_str().to_string(),
            r.principal.name.clone(),
            r.principal.id.clone(),
            r.roles.join(","),
            table::optional_time(r.expires_at, "never"),
        ]);
    }
    text.push_str(&t.render());
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    #[test]
    fn rules_parse() {
        let r = parse_rule("group:ml=inference-admin, cks-viewer").unwrap();
        assert_eq!(r.principal.kind, PrincipalKind::Group);
        assert_eq!(r.principal.id, "ml");
        assert_eq!(r.roles, ["inference-admin", "cks-viewer"]);
        assert_eq!(r.expires_at, None);
        let r = parse_rule("user:ada@example.com=billing-viewer").unwrap();
        assert_eq!(r.principal.kind, PrincipalKind::User);
        assert_eq!(r.principal.id, "ada@example.com");
        let r = parse_rule("sa:sa_1=cks-viewer").unwrap();
        assert_eq!(r.principal.kind, PrincipalKind::ServiceAccount);
        let r = parse_rule("service_account:CI deployer=cks-viewer").unwrap();
        assert_eq!(r.principal.id, "CI deployer", "a service account by name");
        for bad in [
            "group:ml",
            "ml=cks-viewer",
            "robot:x=cks-viewer",
            "group:=a",
            "group:ml=",
        ] {
            assert!(parse_rule(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn policy_file_conflicts_with_rules() {
        assert!(Cli::try_parse_from([
            "warden",
            "policies",
            "create",
            "--file",
            "p.json",
            "--rule",
            "group:a=b",
        ])
        .is_err());
    }

    fn current() -> Policy {
        Policy {
            id: "pol_1".into(),
            name: "ml".into(),
            description: "ML".into(),
            default_for_group: None,
            catalog_difference: None,
            rules: vec![
                warden_client::model::Rule {
                    principal: warden_client::model::Principal {
                        kind: PrincipalKind::Group,
                        id: "grp_1".into(),
                        name: "ML-Team".into(),
                    },
                    roles: vec!["cks-viewer".into()],
                    expires_at: Some(5),
                },
                warden_client::model::Rule {
                    principal: warden_client::model::Principal {
                        kind: PrincipalKind::User,
                        id: "usr_1".into(),
                        name: "bob@example.com".into(),
                    },
                    roles: vec!["billing-viewer".into()],
                    expires_at: None,
                },
            ],
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_replace_keeps_the_rules_unless_told_to_replace_them() {
        let current = current();
        let spec = PolicySpec {
            file: None,
            name: None,
            description: Some("new".into()),
            rules: Vec::new(),
        };
        let input = replace_input(spec.clone(), Some(&current), false).unwrap();
        assert_eq!(
            (input.name.as_str(), input.description.as_str()),
            ("ml", "new")
        );
        assert_eq!(input.rules, rule_inputs(&current));
        assert_eq!(input.rules[0].principal.id, "grp_1");
        assert_eq!(input.rules[0].expires_at, Some(5));
        // --replace-rules alone removes every rule; with --rule options, they are the rules.
        assert!(replace_input(spec.clone(), Some(&current), true)
            .unwrap()
            .rules
            .is_empty());
        let spec = PolicySpec {
            rules: vec![parse_rule("group:ml=cks-viewer").unwrap()],
            ..spec
        };
        let input = replace_input(spec.clone(), Some(&current), true).unwrap();
        assert_eq!(input.rules.len(), 1);
        assert_eq!(input.rules[0].principal.id, "ml");
        assert!(policy_input(PolicySpec { name: None, ..spec }).is_err());
    }

    #[test]
    fn replace_rules_is_a_flag_of_replace_only() {
        assert!(Cli::try_parse_from([
            "warden",
            "policies",
            "replace",
            "p",
            "--replace-rules",
            "--rule",
            "group:a=b",
        ])
        .is_ok());
        assert!(Cli::try_parse_from([
            "warden",
            "policies",
            "replace",
            "p",
            "--replace-rules",
            "--file",
            "p.json",
        ])
        .is_err());
        assert!(Cli::try_parse_from(["warden", "policies", "create", "--replace-rules"]).is_err());
    }

    #[test]
    fn remove_rule_finds_rules_by_principal_or_number() {
        let p = current();
        let group = parse_principal("group:ml-team").unwrap();
        assert_eq!(rules_to_remove(&p, Some(&group), None).unwrap(), [0]);
        let by_id = parse_principal("group:grp_1").unwrap();
        assert_eq!(rules_to_remove(&p, Some(&by_id), None).unwrap(), [0]);
        let bob = parse_principal("user:bob@example.com").unwrap();
        assert_eq!(rules_to_remove(&p, Some(&bob), None).unwrap(), [1]);
        assert_eq!(rules_to_remove(&p, None, Some(2)).unwrap(), [1]);
        let missing = rules_to_remove(&p, None, Some(3)).unwrap_err().to_string();
        assert!(
            missing.contains("has no rule 3 (it has 2 rules)"),
            "{missing}"
        );
        // The kind counts: no group is named bob.
        let wrong_kind = parse_principal("group:bob@example.com").unwrap();
        let missing = rules_to_remove(&p, Some(&wrong_kind), None)
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("no rule naming group `bob@example.com`"),
            "{missing}"
        );
        let same = parse_rule("group:ML-team=cks-viewer").unwrap();
        assert!(!same_rule(&p.rules[0], &same), "the end differs");
        assert!(same_rule(
            &p.rules[1],
            &parse_rule("user:usr_1=billing-viewer").unwrap()
        ));
        assert!(parse_principal("robot:x").is_err());
        assert!(parse_principal("group:").is_err());
        assert!(Cli::try_parse_from(["warden", "policies", "remove-rule", "p"]).is_err());
        assert!(
            Cli::try_parse_from(["warden", "policies", "remove-rule", "p", "--index", "0"])
                .is_err()
        );
    }

    #[test]
    fn time_bound_rules_show_their_end() {
        let mut p = Policy {
            id: "pol_1".into(),
            name: "ml".into(),
            description: String::new(),
            default_for_group: None,
            catalog_difference: None,
            rules: vec![warden_client::model::Rule {
                principal: warden_client::model::Principal {
                    kind: PrincipalKind::Group,
                    id: "grp_1".into(),
                    name: "ml".into(),
                },
                roles: vec!["cks-viewer".into()],
                expires_at: None,
            }],
            created_at: 0,
            updated_at: 0,
        };
        assert!(!policy(&p).contains("EXPIRES"));
        p.rules[0].expires_at = Some(1_709_210_096_000);
        let text = policy(&p);
        assert!(text.contains("EXPIRES"), "{text}");
        assert!(text.contains("2024-02-29 12:34:56Z"), "{text}");
    }
}
