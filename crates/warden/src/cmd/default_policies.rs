//! `warden policies set-roles` and `warden policies reset`: the roles the five default policies
//! give their legacy groups, and how they differ from the catalog's. With `--org` the caller is
//! a platform operator acting in that organization (`/v1/platform/organizations/{org}/…`): the
//! only one who may change the `admin` policy, since every admin belongs to its group.

use warden_client::model::{Policy, Rule, Written};
use warden_client::{Client, ClientError};

use super::policies::{keeping, policy, rule_inputs};
use crate::cli::Output;
use crate::output::{show_written, CliError};

/// Gives the rule binding a default policy's group the roles `roles`; other rules are kept.
pub async fn set_roles(
    client: &Client,
    o: Output,
    key: &str,
    roles: Vec<String>,
    org: Option<&str>,
) -> Result<(), CliError> {
    let current = match org {
        Some(org) => client.platform_policy(org, key).await?,
        None => client.policy(key).await?,
    };
    let Some(group) = current.default_for_group.clone() else {
        return Err(CliError::message(format!(
            "policy `{}` is not a default policy: set-roles changes the roles a default policy \
             (admin, write, read, metrics, billing_viewer) gives its group; change other \
             policies with `warden policies add-rule`, `remove-rule` or `replace`",
            current.name
        )));
    };
    let mut rules = rule_inputs(&current);
    for (rule, input) in current.rules.iter().zip(rules.iter_mut()) {
        if binds_group(rule, &group) {
            input.roles = roles.clone();
        }
    }
    let input = keeping(&current, rules);
    let w = match org {
        Some(org) => {
            client
                .platform_replace_policy(org, &current.id, &input)
                .await
        }
        None => client.replace_policy(&current.id, &input).await,
    }?;
    show_written(o, &w, "Changed", |p| {
        format!(
            "Policy `{}` now gives group `{group}`: {} (revision {}).\n{}",
            p.name,
            roles.join(", "),
            w.revision,
            difference_lines(p)
        )
    })
}

/// Gives every rule of a default policy the catalog's roles again.
pub async fn reset(
    client: &Client,
    o: Output,
    key: &str,
    org: Option<&str>,
) -> Result<(), CliError> {
    let w: Written<Policy> = match org {
        Some(org) => client.platform_reset_policy(org, key).await,
        None => client.reset_policy(key).await,
    }
    .map_err(|e| not_default_hint(e, key))?;
    show_written(o, &w, "Reset", |p| {
        format!(
            "Reset policy `{}` to the catalog's roles (revision {}).\n\n{}",
            p.name,
            w.revision,
            policy(p)
        )
    })
}

fn not_default_hint(error: ClientError, key: &str) -> CliError {
    let hint = matches!(&error, ClientError::Api(p) if p.code == "not_a_default_policy");
    let error = CliError::from(error);
    if hint {
        return CliError::message(format!(
            "{error}\nOnly default policies have catalog roles; see `warden policies get {key}`"
        ));
    }
    error
}

fn binds_group(rule: &Rule, group: &str) -> bool {
    rule.principal.kind == warden_client::model::PrincipalKind::Group
        && rule.principal.name == group
}

/// The `DEFAULT FOR` cell of `policies list`: the group, marked when its roles were changed.
pub fn default_for(p: &Policy) -> String {
    match (&p.default_for_group, &p.catalog_difference) {
        (Some(group), Some(d)) if !d.is_unchanged() => format!("{group} (roles changed)"),
        (Some(group), _) => group.clone(),
        (None, _) => String::new(),
    }
}

/// For `policies get` of a default policy: the catalog's roles and how the policy differs.
pub fn difference_lines(p: &Policy) -> String {
    let Some(d) = &p.catalog_difference else {
        return String::new();
    };
    let mut out = format!("Catalog roles: {}\n", d.catalog_roles.join(", "));
    if d.is_unchanged() {
        out.push_str("The group has exactly the catalog's roles.\n");
        return out;
    }
    if !d.roles_added.is_empty() {
        out.push_str(&format!("  + added:   {}\n", d.roles_added.join(", ")));
    }
    if !d.roles_removed.is_empty() {
        out.push_str(&format!("  - removed: {}\n", d.roles_removed.join(", ")));
    }
    out.push_str(&format!(
        "`warden policies reset {}` restores the catalog's roles.\n",
        p.name
    ));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use warden_client::model::CatalogDifference;

    use super::*;

    fn read_policy(added: &[&str], removed: &[&str]) -> Policy {
        Policy {
            id: "pol_1".into(),
            name: "read".into(),
            description: String::new(),
            default_for_group: Some("read".into()),
            rules: Vec::new(),
            catalog_difference: Some(CatalogDifference {
                catalog_roles: vec!["iam-viewer".into(), "cks-viewer".into()],
                roles_added: added.iter().map(|s| s.to_string()).collect(),
                roles_removed: removed.iter().map(|s| s.to_string()).collect(),
            }),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn the_difference_from_the_catalog_is_shown_with_the_way_back() {
        let same = read_policy(&[], &[]);
        assert_eq!(default_for(&same), "read");
        assert!(difference_lines(&same).contains("exactly the catalog's roles"));
        let changed = read_policy(&["inference-viewer"], &["cks-viewer"]);
        assert_eq!(default_for(&changed), "read (roles changed)");
        let text = difference_lines(&changed);
        assert!(text.contains("+ added:   inference-viewer"), "{text}");
        assert!(text.contains("- removed: cks-viewer"), "{text}");
        assert!(text.contains("warden policies reset read"), "{text}");
    }
}
