//! Kubernetes Managed Auth, seen from the API: `/v1/clusters/{cluster}/rbac` exports what a
//! cluster's RBAC should hold (a YAML stream in a stable order, so a re-export diffs to
//! exactly what changed), and `/v1/clusters/{cluster}/webhook-credential` issues the secret
//! the cluster's kube-apiserver calls `/k8s/authenticate` and `/k8s/authorize` with (the
//! webhooks themselves are `http/k8s.rs`), with the configuration files that use it.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_client::model as m;
use warden_core::command::Key;
use warden_core::{k8s, resolve, validate};

use super::Answer;
use crate::http::error::Problems;
use crate::http::extract::{Json, Path};
use crate::http::respond::{self, with_revision};
use crate::http::AppState;
use crate::service::{now, Caller};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(cluster_rbac))
        .routes(routes!(issue_webhook_credential))
}

/// The cluster's RBAC objects as a YAML stream, for `kubectl apply -f -`: a
/// ClusterRoleBinding per legacy group (`admin` → `cluster-admin`, `write` → `edit`, `read` →
/// `view`) to the Kubernetes group `warden:<org>:group:<name>`; per namespace, the Role each
/// namespace key stands for and a RoleBinding to the users holding it
/// (`warden:<org>:user:<email>`), and the org tokens' Role and RoleBinding
/// (`warden:<org>:serviceaccount:<id>`). Stable order: a re-export after a change differs by
/// exactly that change.
///
/// Needs `iam.namespace_access.list`.
#[utoipa::path(get, path = "/v1/clusters/{cluster}/rbac", tag = "clusters",
    params(("cluster" = String, Path, description = "Cluster id or name")),
    responses((status = 200, content_type = "application/yaml", body = String,
        description = "A YAML stream of RBAC objects"), Problems))]
async fn cluster_rbac(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Answer {
    s.require(&caller, "iam.namespace_access.list").await?;
    let snapshot = &caller.compiled.snapshot;
    let cluster = resolve::cluster(snapshot.state(), &key)?;
    let objects = k8s::export(snapshot.catalog(), snapshot.state(), cluster, now());
    let yaml = k8s::to_yaml_stream(&objects);
    let response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/yaml"),
        )],
        yaml,
    )
        .into_response();
    Ok(with_revision(response, caller.compiled.revision()))
}

/// Issues a new credential for the cluster's kube-apiserver to call Warden's webhooks with
/// (the previous one stops working at once), and answers it once, inside the two webhook
/// configuration files (kubeconfig format) for `--authentication-token-webhook-config-file`
/// and `--authorization-webhook-config-file`. Their URLs are the server's `--public-url`.
///
/// Needs `cks.clusters.update`.
#[utoipa::path(post, path = "/v1/clusters/{cluster}/webhook-credential", tag = "clusters",
    request_body = m::WebhookCredentialInput,
    params(("cluster" = String, Path, description = "Cluster id or name")),
    responses((status = 201, body = m::WebhookCredential), Problems))]
async fn issue_webhook_credential(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(body): Json<m::WebhookCredentialInput>,
) -> Answer {
    let ca = validate::ca_bundle("warden_ca_bundle", &body.warden_ca_bundle)?;
    let (compiled, secret, cluster) = s
        .issue_webhook_credential(&caller.org, &caller.actor(), caller.token.clone(), Key(key))
        .await?;
    let base = s.settings().public_url.trim_end_matches('/').to_string();
    let authenticate_url = format!("{base}/k8s/authenticate");
    let authorize_url = format!("{base}/k8s/authorize");
    let ca = (!ca.trim().is_empty()).then_some(ca.as_str());
    let body = m::WebhookCredential {
        revision: compiled.revision(),
        cluster: cluster.to_string(),
        authentication_config: k8s::webhook_kubeconfig(&authenticate_url, &secret, ca),
        authorization_config: k8s::webhook_kubeconfig(&authorize_url, &secret, ca),
        authenticate_url,
        authorize_url,
        secret,
    };
    Ok(respond::secret(
        StatusCode::CREATED,
        body,
        Some(compiled.revision()),
    ))
}
