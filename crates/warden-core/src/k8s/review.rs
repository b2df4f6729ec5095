//! The webhook reviews as a kube-apiserver sends them and reads the answers: TokenReview
//! (`authentication.k8s.io/v1`) and SubjectAccessReview (`authorization.k8s.io/v1` and
//! `v1beta1`).
//!
//! Every request field is optional, as in the Kubernetes API, and a `null` reads as absent;
//! unknown fields are accepted, since newer apiservers add some (`fieldSelector`,
//! `labelSelector`). v1beta1 spells the groups `group`, v1 `groups`: both are read. Answers
//! leave out what Kubernetes leaves out when empty or false.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::identity::K8sIdentity;

/// A `null` reads as the default, like an absent field.
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A SubjectAccessReview request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectAccessReview {
    #[serde(default, deserialize_with = "nullable")]
    pub api_version: String,
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    #[serde(default, deserialize_with = "nullable")]
    pub spec: SubjectAccessSpec,
}

/// What is asked: who, and which resource or non-resource request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectAccessSpec {
    #[serde(default, deserialize_with = "nullable")]
    pub resource_attributes: Option<ResourceAttributes>,
    #[serde(default, deserialize_with = "nullable")]
    pub non_resource_attributes: Option<NonResourceAttributes>,
    #[serde(default, deserialize_with = "nullable")]
    pub user: String,
    /// `groups` in v1, `group` in v1beta1.
    #[serde(default, deserialize_with = "nullable", alias = "group")]
    pub groups: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub extra: BTreeMap<String, Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub uid: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceAttributes {
    #[serde(default, deserialize_with = "nullable")]
    pub namespace: String,
    #[serde(default, deserialize_with = "nullable")]
    pub verb: String,
    #[serde(default, deserialize_with = "nullable")]
    pub group: String,
    #[serde(default, deserialize_with = "nullable")]
    pub version: String,
    #[serde(default, deserialize_with = "nullable")]
    pub resource: String,
    #[serde(default, deserialize_with = "nullable")]
    pub subresource: String,
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonResourceAttributes {
    #[serde(default, deserialize_with = "nullable")]
    pub path: String,
    #[serde(default, deserialize_with = "nullable")]
    pub verb: String,
}

/// A SubjectAccessReview answer: the request's `apiVersion` and kind, with the status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectAccessReviewResponse {
    pub api_version: String,
    pub kind: String,
    pub status: SubjectAccessStatus,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectAccessStatus {
    pub allowed: bool,
    /// An explicit deny: no other authorizer is asked. Left out when false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub denied: bool,
    #[serde(default)]
    pub reason: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub evaluation_error: String,
}

/// What Warden decides about a request: allowed, denied outright, or neither (no opinion:
/// the cluster's other authorizers, its own RBAC among them, decide), with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessVerdict {
    pub allowed: bool,
    pub denied: bool,
    pub reason: String,
}

impl AccessVerdict {
    pub fn allow(reason: String) -> AccessVerdict {
        AccessVerdict {
            allowed: true,
            denied: false,
            reason,
        }
    }

    pub fn deny(reason: String) -> AccessVerdict {
        AccessVerdict {
            allowed: false,
            denied: true,
            reason,
        }
    }

    pub fn no_opinion(reason: String) -> AccessVerdict {
        AccessVerdict {
            allowed: false,
            denied: false,
            reason,
        }
    }

    pub fn status(&self) -> SubjectAccessStatus {
        SubjectAccessStatus {
            allowed: self.allowed,
            denied: self.denied,
            reason: self.reason.clone(),
            evaluation_error: String::new(),
        }
    }
}

/// The version of the review API the request used, or v1 when it said none.
fn version_or(api_version: &str, default: &str) -> String {
    if api_version.is_empty() {
        default.to_string()
    } else {
        api_version.to_string()
    }
}

impl SubjectAccessReviewResponse {
    /// The answer to `request`, in its own API version.
    pub fn new(request: &SubjectAccessReview, verdict: &AccessVerdict) -> Self {
        SubjectAccessReviewResponse {
            api_version: version_or(&request.api_version, "authorization.k8s.io/v1"),
            kind: "SubjectAccessReview".to_string(),
            status: verdict.status(),
        }
    }
}

/// A TokenReview request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenReview {
    #[serde(default, deserialize_with = "nullable")]
    pub api_version: String,
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    #[serde(default, deserialize_with = "nullable")]
    pub spec: TokenReviewSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenReviewSpec {
    #[serde(default, deserialize_with = "nullable")]
    pub token: String,
    #[serde(default, deserialize_with = "nullable")]
    pub audiences: Vec<String>,
}

/// A TokenReview answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenReviewResponse {
    pub api_version: String,
    pub kind: String,
    pub status: TokenReviewStatus,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenReviewStatus {
    pub authenticated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserInfo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
}

/// `status.user` of a TokenReview.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    pub username: String,
    pub uid: String,
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Vec<String>>,
}

impl From<K8sIdentity> for UserInfo {
    fn from(identity: K8sIdentity) -> UserInfo {
        UserInfo {
            username: identity.username,
            uid: identity.uid,
            groups: identity.groups,
            extra: identity.extra,
        }
    }
}

impl TokenReviewResponse {
    /// An authenticated answer: the identity, for the audiences the request named (Warden's
    /// tokens are good for any audience of the organization's clusters).
    pub fn authenticated(request: &TokenReview, identity: K8sIdentity) -> Self {
        Self::with(
            request,
            TokenReviewStatus {
                authenticated: true,
                user: Some(identity.into()),
                audiences: request.spec.audiences.clone(),
                error: String::new(),
            },
        )
    }

    /// A refusal, saying why (never echoing the token).
    pub fn unauthenticated(request: &TokenReview, error: &str) -> Self {
        Self::with(
            request,
            TokenReviewStatus {
                authenticated: false,
                user: None,
                audiences: Vec::new(),
                error: error.to_string(),
            },
        )
    }

    fn with(request: &TokenReview, status: TokenReviewStatus) -> Self {
        TokenReviewResponse {
            api_version: version_or(&request.api_version, "authentication.k8s.io/v1"),
            kind: "TokenReview".to_string(),
            status,
        }
    }
}
