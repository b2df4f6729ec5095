//! `warden policies`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use warden_client::model::{Policy, PolicyInput, PrincipalInput, PrincipalKind, RuleInput};
use warden_client::Client;

use super::read_input;
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
    /// A rule `KIND:ID=ROLE[,ROLE...]`, KIND being user, group or service_account and ID an
    /// id, a group name or a user email; repeat for several rules
    /// (e.g. `--rule group:ml=inference-admin,cks-viewer`).
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
    /// Replace a policy's name, description and rules (without --file, the name and
    /// description default to the current ones and the --rule options replace every rule).
    Replace {
        /// Policy id or name.
        policy: String,
        #[command(flatten)]
        spec: PolicySpec,
    },
    /// Delete a policy (default policies cannot be deleted).
    Delete {
        /// Policy id or name.
        policy: String,
    },
}

pub async fn run(client: &Client, o: Output, command: PoliciesCommand) -> Result<(), CliError> {
    match command {
        PoliciesCommand::List => show(o, &client.policies().await?, |l| policy_table(&l.items)),
        PoliciesCommand::Get { policy: key } => show(o, &client.policy(&key).await?, policy),
        PoliciesCommand::Create { spec } => {
            let input = policy_input(spec, None)?;
            let w = client.create_policy(&input).await?;
            show_written(o, &w, "Created", policy)
        }
        PoliciesCommand::Replace { policy: key, spec } => {
            let current =
                if spec.file.is_none() && (spec.name.is_none() || spec.description.is_none()) {
                    Some(client.policy(&key).await?)
                } else {
                    None
                };
            let input = policy_input(spec, current.as_ref())?;
            let w = client.replace_policy(&key, &input).await?;
            show_written(o, &w, "Replaced", policy)
        }
        PoliciesCommand::Delete { policy: key } => {
            let w = client.delete_policy(&key).await?;
            show_written(o, &w, &format!("Deleted policy `{key}`"), policy)
        }
    }
}

/// Parses `KIND:ID=ROLE[,ROLE...]`.
pub fn parse_rule(text: &str) -> Result<RuleInput, String> {
    let usage = "expected KIND:ID=ROLE[,ROLE...], e.g. group:ml=inference-admin,cks-viewer";
    let (principal, roles) = text.rsplit_once('=').ok_or(usage)?;
    let (kind, id) = principal.split_once(':').ok_or(usage)?;
    let kind = match kind.trim() {
        "user" => PrincipalKind::User,
        "group" => PrincipalKind::Group,
        "service_account" | "service-account" | "sa" => PrincipalKind::ServiceAccount,
        other => {
            return Err(format!(
                "unknown principal kind `{other}`: use user, group or service_account"
            ))
        }
    };
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

/// The policy a create or replace sends; `current` supplies a replace's defaults.
fn policy_input(spec: PolicySpec, current: Option<&Policy>) -> Result<PolicyInput, CliError> {
    if let Some(path) = &spec.file {
        let text = read_input(path)?;
        return serde_json::from_str(&text).map_err(|e| {
            CliError::message(format!(
                "{} is not a policy (JSON with name, description, rules): {e}",
                path.display()
            ))
        });
    }
    let name = match (spec.name, current) {
        (Some(name), _) => name,
        (None, Some(p)) => p.name.clone(),
        (None, None) => {
            return Err(CliError::message(
                "give --file, or --name with --rule options",
            ))
        }
    };
    let description = spec
        .description
        .or_else(|| current.map(|p| p.description.clone()))
        .unwrap_or_default();
    Ok(PolicyInput {
        name,
        description,
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
            p.default_for_group.clone().unwrap_or_default(),
            p.description.clone(),
        ]);
    }
    t.render()
}

fn policy(p: &Policy) -> String {
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
    text.push('\n');
    // Time-bound rules add a column (absent when no rule has an end).
    let bounded = p.rules.iter().any(|r| r.expires_at.is_some());
    let mut headers = vec!["#", "KIND", "PRINCIPAL", "ID", "ROLES"];
    if bounded {
        headers.push("EXPIRES");
    }
    let mut t = Table::new(&headers);
    // Rules are counted from 1, as explanations (`policy `p`, rule 2`) count them.
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

    #[test]
    fn a_replace_keeps_the_current_name_and_description() {
        let current = Policy {
            id: "pol_1".into(),
            name: "ml".into(),
            description: "ML".into(),
            default_for_group: None,
            rules: Vec::new(),
            created_at: 0,
            updated_at: 0,
        };
        let spec = PolicySpec {
            file: None,
            name: None,
            description: None,
            rules: vec![parse_rule("group:ml=cks-viewer").unwrap()],
        };
        let input = policy_input(spec.clone(), Some(&current)).unwrap();
        assert_eq!(
            (input.name.as_str(), input.description.as_str()),
            ("ml", "ML")
        );
        assert_eq!(input.rules.len(), 1);
        assert!(policy_input(spec, None).is_err());
    }

    #[test]
    fn time_bound_rules_show_their_end() {
        let mut p = Policy {
            id: "pol_1".into(),
            name: "ml".into(),
            description: String::new(),
            default_for_group: None,
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
