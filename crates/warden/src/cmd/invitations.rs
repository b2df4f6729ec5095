//! `warden invitations` (and `warden users invite`): invite people, copy, resend, edit and
//! revoke invitations, and accept one with its link (no token needed).

use std::io::Read;

use clap::{Args, Subcommand};
use warden_client::model::{
    Invitation, InvitationAcceptance, InvitationInput, InvitationUpdate, InvitedNamespaceInput,
    SentInvitation,
};
use warden_client::Client;

use crate::cli::Output;
use crate::output::{show, show_written, CliError};
use crate::table::{self, details, Table};

#[derive(Debug, Subcommand)]
pub enum InvitationsCommand {
    /// Invite an address: the email with the link goes out, and the link is printed too.
    Create(InviteArgs),
    /// List the organization's invitations, newest first.
    List,
    /// Show one invitation.
    Get {
        /// Invitation id, or the invited email.
        invitation: String,
    },
    /// Change what a pending invitation gives (each option given replaces that part).
    Update(UpdateArgs),
    /// Send the invitation again with a new link; the old link stops working.
    Resend {
        /// Invitation id, or the invited email.
        invitation: String,
    },
    /// Print the link of a pending invitation again ("Copy link").
    Link {
        /// Invitation id, or the invited email.
        invitation: String,
    },
    /// Revoke an invitation: its link stops working.
    Revoke {
        /// Invitation id, or the invited email.
        invitation: String,
    },
    /// Accept an invitation with its link (no token needed): choose your name and password.
    Accept(AcceptArgs),
}

/// What an invitation gives.
#[derive(Debug, Args)]
pub struct InviteArgs {
    /// The address to invite.
    pub email: String,
    /// A namespace to give, with its permission keys: `NS` (r:full) or `NS=r:full,w:configmaps`;
    /// repeat for several.
    #[arg(long = "namespace", value_name = "NS[=KEYS]")]
    pub namespaces: Vec<String>,
    /// The Admin checkbox: membership of `admin`.
    #[arg(long)]
    pub admin: bool,
    /// The View Billing checkbox: membership of `billing_viewer`.
    #[arg(long)]
    pub billing: bool,
    /// Another group (name or id); repeat for several.
    #[arg(long = "group", value_name = "GROUP")]
    pub groups: Vec<String>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Invitation id, or the invited email.
    pub invitation: String,
    /// Replace the namespaces: `NS` or `NS=KEYS`; repeat for several.
    #[arg(
        long = "namespace",
        value_name = "NS[=KEYS]",
        conflicts_with = "no_namespaces"
    )]
    pub namespaces: Vec<String>,
    /// Give no namespace.
    #[arg(long)]
    pub no_namespaces: bool,
    /// Set the Admin checkbox.
    #[arg(long, value_name = "BOOL")]
    pub admin: Option<bool>,
    /// Set the View Billing checkbox.
    #[arg(long, value_name = "BOOL")]
    pub billing: Option<bool>,
    /// Replace the other groups; repeat for several.
    #[arg(long = "group", value_name = "GROUP", conflicts_with = "no_groups")]
    pub groups: Vec<String>,
    /// Give no other group.
    #[arg(long)]
    pub no_groups: bool,
}

#[derive(Debug, Args)]
pub struct AcceptArgs {
    /// The link from the email (or just the part after `#`).
    pub link: String,
    #[arg(long)]
    pub first_name: String,
    #[arg(long, default_value = "")]
    pub last_name: String,
    /// Read the password from this file (its first line); `-` reads standard input. Never
    /// an argument: those show in `ps`.
    #[arg(long, value_name = "FILE")]
    pub password_file: String,
}

/// `NS` or `NS=k1,k2`.
pub fn namespace_arg(text: &str) -> Result<InvitedNamespaceInput, CliError> {
    let (namespace, keys) = match text.split_once('=') {
        Some((ns, keys)) => (ns, keys),
        None => (text, ""),
    };
    if namespace.trim().is_empty() {
        return Err(CliError::message(format!(
            "--namespace `{text}`: expected NS or NS=KEY,KEY (e.g. ml=r:full,w:configmaps)"
        )));
    }
    Ok(InvitedNamespaceInput {
        namespace: namespace.trim().to_string(),
        permissions: keys
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

impl InviteArgs {
    pub fn input(&self) -> Result<InvitationInput, CliError> {
        Ok(InvitationInput {
            email: self.email.clone(),
            namespaces: self
                .namespaces
                .iter()
                .map(|n| namespace_arg(n))
                .collect::<Result<_, _>>()?,
            admin: self.admin,
            billing: self.billing,
            groups: self.groups.clone(),
        })
    }
}

fn read_password(source: &str) -> Result<String, CliError> {
    let text = if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::message(format!("cannot read the password from stdin: {e}")))?;
        text
    } else {
        std::fs::read_to_string(source).map_err(|e| {
            CliError::message(format!("cannot read the password file {source}: {e}"))
        })?
    };
    Ok(text.lines().next().unwrap_or_default().to_string())
}

pub async fn run(client: &Client, o: Output, command: InvitationsCommand) -> Result<(), CliError> {
    match command {
        InvitationsCommand::Create(args) => {
            let sent = client.invite(&args.input()?).await?;
            show(o, &sent, |s| sent_text(s, "Invitation sent"))
        }
        InvitationsCommand::List => show(o, &client.invitations().await?, |l| {
            invitation_table(&l.items)
        }),
        InvitationsCommand::Get { invitation: key } => {
            show(o, &client.invitation(&key).await?, invitation)
        }
        InvitationsCommand::Update(args) => {
            let namespaces = if args.no_namespaces {
                Some(Vec::new())
            } else if args.namespaces.is_empty() {
                None
            } else {
                Some(
                    args.namespaces
                        .iter()
                        .map(|n| namespace_arg(n))
                        .collect::<Result<_, _>>()?,
                )
            };
            let groups = if args.no_groups {
                Some(Vec::new())
            } else if args.groups.is_empty() {
                None
            } else {
                Some(args.groups.clone())
            };
            let update = InvitationUpdate {
                namespaces,
                admin: args.admin,
                billing: args.billing,
                groups,
            };
            if update == InvitationUpdate::default() {
                return Err(CliError::message(
                    "nothing to change: give --namespace, --no-namespaces, --admin, --billing, \
                     --group or --no-groups",
                ));
            }
            let w = client.update_invitation(&args.invitation, &update).await?;
            show_written(o, &w, "Updated", invitation)
        }
        InvitationsCommand::Resend { invitation: key } => {
            let sent = client.resend_invitation(&key).await?;
            show(o, &sent, |s| {
                sent_text(s, "Invitation sent again; the old link no longer works")
            })
        }
        InvitationsCommand::Link { invitation: key } => {
            let link = client.invitation_link(&key).await?;
            show(o, &link, |l| format!("{}\n", l.link))
        }
        InvitationsCommand::Revoke { invitation: key } => {
            let w = client.revoke_invitation(&key).await?;
            show_written(o, &w, "Revoked", invitation)
        }
        InvitationsCommand::Accept(args) => {
            let acceptance = InvitationAcceptance {
                token: args.link.clone(),
                first_name: args.first_name.clone(),
                last_name: args.last_name.clone(),
                password: read_password(&args.password_file)?,
            };
            let accepted = client.accept_invitation(&acceptance).await?;
            show(o, &accepted, |a| {
                format!(
                    "Welcome to {} ({}): you are {} ({}).\n",
                    a.organization_name, a.organization_id, a.user.email, a.user.id
                )
            })
        }
    }
}

fn sent_text(sent: &SentInvitation, headline: &str) -> String {
    let mut text = format!("{headline}.\n\n");
    text.push_str(&invitation(&sent.invitation));
    text.push_str(&format!(
        "\nLink (works once; hand it only to the invitee):\n{}\n",
        sent.link
    ));
    text
}

fn namespaces_of(i: &Invitation) -> String {
    i.namespaces
        .iter()
        .map(|n| format!("{}={}", n.namespace, n.permissions.join(",")))
        .collect::<Vec<_>>()
        .join(" ")
}

fn invitation(i: &Invitation) -> String {
    details(&[
        ("ID", i.id.clone()),
        ("Email", i.email.clone()),
        ("Status", i.status.as_str().to_string()),
        (
            "Invited by",
            i.invited_by_email
                .clone()
                .unwrap_or_else(|| i.invited_by.clone()),
        ),
        ("Admin", table::yes_no(i.admin)),
        ("View billing", table::yes_no(i.billing)),
        (
            "Groups",
            i.groups
                .iter()
                .map(|g| g.name.clone())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("Namespaces", namespaces_of(i)),
        ("Sent", table::time(i.sent_at)),
        ("Expires", table::time(i.expires_at)),
        ("Accepted by", i.accepted_user.clone().unwrap_or_default()),
    ])
}

fn invitation_table(items: &[Invitation]) -> String {
    let mut t = Table::new(&[
        "ID",
        "EMAIL",
        "STATUS",
        "ADMIN",
        "BILLING",
        "GROUPS",
        "NAMESPACES",
        "EXPIRES",
    ]);
    for i in items {
        t.row(vec![
            i.id.clone(),
            i.email.clone(),
            i.status.as_str().to_string(),
            table::yes_no(i.admin),
            table::yes_no(i.billing),
            i.groups
                .iter()
                .map(|g| g.name.clone())
                .collect::<Vec<_>>()
                .join(","),
            namespaces_of(i),
            table::time(i.expires_at),
        ]);
    }
    t.render()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn namespaces_are_named_with_their_keys() {
        let plain = namespace_arg("ml").unwrap();
        assert_eq!(
            (plain.namespace.as_str(), plain.permissions.len()),
            ("ml", 0)
        );
        let keyed = namespace_arg("ml=r:full, w:configmaps").unwrap();
        assert_eq!(keyed.permissions, ["r:full", "w:configmaps"]);
        assert!(namespace_arg("=r:full").is_err());
    }
}
