//! `warden k8s`: Kubernetes Managed Auth. `rbac` prints (or writes) a cluster's RBAC objects
//! as a YAML stream for `kubectl apply -f -`; `webhook-config` issues the cluster's webhook
//! credential and writes the two kube-apiserver webhook configuration files that use it
//! (mode 0600: they hold the secret), then prints the flags that load them.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use warden_client::model::WebhookCredentialInput;
use warden_client::Client;

use super::tokens::{refuse_existing, write_private_file};
use crate::cli::Output;
use crate::output::{out, print_json, CliError};

/// The files `webhook-config` writes in its directory.
pub const AUTHENTICATION_FILE: &str = "authentication-webhook.kubeconfig";
pub const AUTHORIZATION_FILE: &str = "authorization-webhook.kubeconfig";

#[derive(Debug, Subcommand)]
pub enum K8sCommand {
    /// Print a cluster's RBAC objects (ClusterRoleBindings, Roles, RoleBindings) as YAML.
    Rbac {
        /// The cluster (name or id).
        #[arg(long)]
        cluster: String,
        /// Write the YAML to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Issue a cluster's webhook credential (replacing the previous one) and write the
    /// kube-apiserver's webhook configuration files into a directory.
    WebhookConfig {
        /// The cluster (name or id).
        #[arg(long)]
        cluster: String,
        /// The directory to write the two files in (created if missing; the files must not
        /// exist yet).
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
        /// PEM file of the CA that signed Warden's HTTPS certificate, if the kube-apiserver
        /// does not trust it already.
        #[arg(long, value_name = "FILE")]
        warden_ca: Option<PathBuf>,
    },
}

pub async fn run(client: &Client, o: Output, command: K8sCommand) -> Result<(), CliError> {
    match command {
        K8sCommand::Rbac { cluster, out: file } => {
            let yaml = client.cluster_rbac(&cluster).await?;
            match file {
                Some(path) => std::fs::write(&path, yaml.as_bytes()).map_err(|e| {
                    CliError::message(format!("cannot write {}: {e}", path.display()))
                }),
                None => {
                    out(&yaml);
                    Ok(())
                }
            }
        }
        K8sCommand::WebhookConfig {
            cluster,
            dir,
            warden_ca,
        } => {
            let authentication = dir.join(AUTHENTICATION_FILE);
            let authorization = dir.join(AUTHORIZATION_FILE);
            // Refused before the credential is replaced: the cluster's current one keeps
            // working until the new files are in place.
            for path in [&authentication, &authorization] {
                refuse_existing(
                    Some(path),
                    "remove it or choose another --dir (nothing was changed)",
                )?;
            }
            let warden_ca_bundle = match &warden_ca {
                Some(path) => std::fs::read_to_string(path).map_err(|e| {
                    CliError::message(format!("cannot read {}: {e}", path.display()))
                })?,
                None => String::new(),
            };
            std::fs::create_dir_all(&dir)
                .map_err(|e| CliError::message(format!("cannot create {}: {e}", dir.display())))?;
            let issued = client
                .issue_webhook_credential(&cluster, &WebhookCredentialInput { warden_ca_bundle })
                .await?;
            write_private_file(&authentication, &issued.authentication_config)?;
            write_private_file(&authorization, &issued.authorization_config)?;
            match o {
                Output::Json => print_json(&serde_json::json!({
                    "cluster": issued.cluster,
                    "revision": issued.revision,
                    "authenticate_url": issued.authenticate_url,
                    "authorize_url": issued.authorize_url,
                    "authentication_config_file": authentication,
                    "authorization_config_file": authorization,
                })),
                Output::Table => {
                    out(&flags(&cluster, &authentication, &authorization));
                    Ok(())
                }
            }
        }
    }
}

/// What to do with the files: the kube-apiserver flags that load them.
fn flags(cluster: &str, authentication: &Path, authorization: &Path) -> String {
    format!(
        "Wrote {auth} and {authz} (mode 0600: they hold the cluster's webhook credential).\n\
         Any previous credential of `{cluster}` no longer works.\n\n\
         Copy both files to the control plane of `{cluster}` and start kube-apiserver with:\n\n\
         \x20 --authentication-token-webhook-config-file={auth}\n\
         \x20 --authentication-token-webhook-version=v1\n\
         \x20 --authorization-mode=Node,Webhook,RBAC\n\
         \x20 --authorization-webhook-config-file={authz}\n\
         \x20 --authorization-webhook-version=v1\n",
        auth = authentication.display(),
        authz = authorization.display(),
    )
}
