//! `/v1/clusters`: CKS clusters.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_client::model as m;
use warden_core::command::{ClusterCommand, Key};
use warden_core::{resolve, Cluster, ClusterId, Command};

use super::Answer;
use crate::http::error::Problems;
use crate::http::extract::{Json, Path};
use crate::http::respond::{list, read, written};
use crate::http::AppState;
use crate::service::{Caller, Service};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clusters, create_cluster))
        .routes(routes!(get_cluster, update_cluster, delete_cluster))
}

fn cluster(cluster: &Cluster) -> m::Cluster {
    m::Cluster {
        id: cluster.id.to_string(),
        name: cluster.name.clone(),
        api_server_url: cluster.api_server_url.clone(),
        ca_bundle: cluster.ca_bundle.clone(),
        created_at: cluster.created_at.0,
    }
}

async fn cluster_write(
    s: &Arc<Service>,
    caller: &Caller,
    status: StatusCode,
    command: Command,
) -> Answer {
    let done = s.execute_for(caller, command).await?;
    let item = done
        .compiled
        .state()
        .clusters
        .get(&ClusterId::from(done.target().to_string()))
        .map(cluster);
    Ok(written(status, &done.compiled, item))
}

/// Every cluster.
///
/// Needs `cks.clusters.list`.
#[utoipa::path(get, path = "/v1/clusters", tag = "clusters",
    responses((status = 200, body = m::List<m::Cluster>), Problems))]
async fn list_clusters(State(s): State<AppState>, caller: Caller) -> Answer {
    s.require(&caller, "cks.clusters.list").await?;
    let items = caller
        .compiled
        .state()
        .clusters
        .values()
        .map(cluster)
        .collect();
    Ok(list(&caller.compiled, items))
}

/// Registers a cluster.
///
/// Needs `cks.clusters.create`.
#[utoipa::path(post, path = "/v1/clusters", tag = "clusters", request_body = m::ClusterInput,
    responses((status = 201, body = m::Written<m::Cluster>), Problems))]
async fn create_cluster(
    State(s): State<AppState>,
    caller: Caller,
    Json(body): Json<m::ClusterInput>,
) -> Answer {
    let command = ClusterCommand::Create {
        name: body.name,
        api_server_url: body.api_server_url,
        ca_bundle: body.ca_bundle,
    };
    cluster_write(&s, &caller, StatusCode::CREATED, command.into()).await
}

/// One cluster, by id or name.
///
/// Needs `cks.clusters.get`.
#[utoipa::path(get, path = "/v1/clusters/{cluster}", tag = "clusters",
    params(("cluster" = String, Path, description = "Cluster id or name")),
    responses((status = 200, body = m::Cluster), Problems))]
async fn get_cluster(State(s): State<AppState>, caller: Caller, Path(key): Path<String>) -> Answer {
    s.require(&caller, "cks.clusters.get").await?;
    let found = resolve::cluster(caller.compiled.state(), &key)?;
    Ok(read(&caller.compiled, cluster(found)))
}

/// Changes a cluster's API server URL or CA bundle.
///
/// Needs `cks.clusters.update`.
#[utoipa::path(patch, path = "/v1/clusters/{cluster}", tag = "clusters", request_body = m::ClusterUpdate,
    params(("cluster" = String, Path, description = "Cluster id or name")),
    responses((status = 200, body = m::Written<m::Cluster>), Problems))]
async fn update_cluster(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(body): Json<m::ClusterUpdate>,
) -> Answer {
    let command = ClusterCommand::Update {
        cluster: Key(key),
        api_server_url: body.api_server_url,
        ca_bundle: body.ca_bundle,
    };
    cluster_write(&s, &caller, StatusCode::OK, command.into()).await
}

/// Deletes a cluster.
///
/// Needs `cks.clusters.delete`.
#[utoipa::path(delete, path = "/v1/clusters/{cluster}", tag = "clusters",
    params(("cluster" = String, Path, description = "Cluster id or name")),
    responses((status = 200, body = m::Written<m::Cluster>), Problems))]
async fn delete_cluster(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Answer {
    let command = ClusterCommand::Delete { cluster: Key(key) };
    let done = s.execute_for(&caller, command.into()).await?;
    Ok(written::<m::Cluster>(StatusCode::OK, &done.compiled, None))
}
