//! `warden clusters`.

use std::path::PathBuf;

use clap::Subcommand;
use warden_client::model::{Cluster, ClusterInput, ClusterUpdate};
use warden_client::Client;

use super::read_input;
use crate::cli::Output;
use crate::output::{show, show_written, CliError};
use crate::table::{self, details, Table};

#[derive(Debug, Subcommand)]
pub enum ClustersCommand {
    /// List clusters.
    List,
    /// Show one cluster.
    Get {
        /// Cluster id or name.
        cluster: String,
    },
    /// Register a cluster.
    Create {
        /// Name of the cluster.
        name: String,
        /// URL of the cluster's Kubernetes API server.
        #[arg(long, value_name = "URL")]
        api_server_url: String,
        /// PEM file with the API server's CA bundle.
        #[arg(long, value_name = "PEM")]
        ca_file: Option<PathBuf>,
    },
    /// Change a cluster's API server URL or CA bundle.
    Update {
        /// Cluster id or name.
        cluster: String,
        #[arg(long, value_name = "URL")]
        api_server_url: Option<String>,
        /// PEM file with the new CA bundle.
        #[arg(long, value_name = "PEM")]
        ca_file: Option<PathBuf>,
    },
    /// Delete a cluster.
    Delete {
        /// Cluster id or name.
        cluster: String,
    },
}

pub async fn run(client: &Client, o: Output, command: ClustersCommand) -> Result<(), CliError> {
    match command {
        ClustersCommand::List => show(o, &client.clusters().await?, |l| cluster_table(&l.items)),
        ClustersCommand::Get { cluster: key } => show(o, &client.cluster(&key).await?, cluster),
        ClustersCommand::Create {
            name,
            api_server_url,
            ca_file,
        } => {
            let ca_bundle = match &ca_file {
                Some(path) => read_input(path)?,
                None => String::new(),
            };
            let input = ClusterInput {
                name,
                api_server_url,
                ca_bundle,
            };
            let w = client.create_cluster(&input).await?;
            show_written(o, &w, "Created", cluster_one)
        }
        ClustersCommand::Update {
            cluster: key,
            api_server_url,
            ca_file,
        } => {
            let ca_bundle = match &ca_file {
                Some(path) => Some(read_input(path)?),
                None => None,
            };
            if api_server_url.is_none() && ca_bundle.is_none() {
                return Err(CliError::message(
                    "nothing to change: give --api-server-url and/or --ca-file",
                ));
            }
            let update = ClusterUpdate {
                api_server_url,
                ca_bundle,
            };
            let w = client.update_cluster(&key, &update).await?;
            show_written(o, &w, "Updated", cluster_one)
        }
        ClustersCommand::Delete { cluster: key } => {
            let w = client.delete_cluster(&key).await?;
            show_written(o, &w, &format!("Deleted cluster `{key}`"), cluster_one)
        }
    }
}

fn cluster_table(clusters: &[Cluster]) -> String {
    let mut t = Table::new(&["ID", "NAME", "API SERVER", "CA", "CREATED"]);
    for c in clusters {
        t.row(vec![
            c.id.clone(),
            c.name.clone(),
            c.api_server_url.clone(),
            table::yes_no(!c.ca_bundle.trim().is_empty()),
            table::time(c.created_at),
        ]);
    }
    t.render()
}

fn cluster_one(c: &Cluster) -> String {
    cluster_table(std::slice::from_ref(c))
}

fn cluster(c: &Cluster) -> String {
    let mut text = details(&[
        ("ID", c.id.clone()),
        ("Name", c.name.clone()),
        ("API server", c.api_server_url.clone()),
        ("Created", table::time(c.created_at)),
    ]);
    if c.ca_bundle.trim().is_empty() {
        text.push_str("CA bundle: -\n");
    } else {
        text.push_str("CA bundle:\n");
        for line in c.ca_bundle.lines() {
            text.push_str(&table::clean(line));
            text.push('\n');
        }
    }
    text
}
