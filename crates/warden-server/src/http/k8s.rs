//! `/k8s/authenticate` and `/k8s/authorize`: the Kubernetes webhook APIs, so a cluster's
//! kube-apiserver delegates to Warden (`--authentication-token-webhook-config-file`,
//! `--authorization-webhook-config-file`, written by `warden k8s webhook-config`).
//!
//! Plain routes outside the OpenAPI document: their contract is Kubernetes' own
//! (`authentication.k8s.io/v1` TokenReview, `authorization.k8s.io/v1` and `v1beta1`
//! SubjectAccessReview), answered in the request's own version. The caller is a cluster,
//! authenticated by its webhook credential; a token under review that is malformed, unknown,
//! expired, revoked or a deactivated user's is `authenticated: false` with an error string,
//! never an HTTP error. Both are answered from memory.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use warden_core::k8s::review::{SubjectAccessReviewResponse, TokenReviewResponse};
use warden_core::k8s::{self, SubjectAccessReview, TokenReview};

use super::error::ApiError;
use super::extract::Json;
use super::AppState;
use crate::service::{now, ClusterCaller, TokenReviewOutcome};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/k8s/authenticate", post(authenticate))
        .route("/k8s/authorize", post(authorize))
}

/// TokenReview: a Warden token in; the Kubernetes identity it stands for out.
async fn authenticate(
    State(s): State<AppState>,
    cluster: ClusterCaller,
    Json(review): Json<TokenReview>,
) -> Result<Response, ApiError> {
    let answer = match s.review_token(&cluster, &review.spec.token) {
        TokenReviewOutcome::Authenticated(identity) => {
            TokenReviewResponse::authenticated(&review, identity)
        }
        TokenReviewOutcome::Refused(why) => TokenReviewResponse::unauthenticated(&review, why),
    };
    Ok(axum::Json(answer).into_response())
}

/// SubjectAccessReview: may this user do this in this cluster? Answered from the snapshot,
/// the namespace grants and the token's scope, with the explanation as `reason`.
async fn authorize(
    State(s): State<AppState>,
    cluster: ClusterCaller,
    Json(review): Json<SubjectAccessReview>,
) -> Result<Response, ApiError> {
    // The organization as served now, not as it was when the cluster was authenticated.
    let compiled = s.compiled(&cluster.org).unwrap_or(cluster.compiled);
    let verdict = k8s::authorize(&compiled.snapshot, &cluster.cluster, &review.spec, now());
    Ok(axum::Json(SubjectAccessReviewResponse::new(&review, &verdict)).into_response())
}
