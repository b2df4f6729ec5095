//! The Kubernetes side of Warden, pure: the identity a token authenticates as, the RBAC
//! objects that give an organization's principals their access in a cluster, kubeconfigs,
//! and the SubjectAccessReview decision (spec section 8). The HTTP webhooks and the CLI are
//! built on these functions; nothing here does I/O or reads a clock (every decision takes
//! its `now`).
//!
//! - [`identity`]: names that never collide between organizations, nor between users,
//!   service accounts and groups (`warden:<org>:user:<email>`,
//!   `warden:<org>:serviceaccount:<id>`, `warden:<org>:group:<name>`, and `warden:<org>` for
//!   everyone), and the TokenReview identity of a token.
//! - [`rules`]: the Kubernetes rules of the catalog's namespace keys and ClusterRoles (data,
//!   validated at load) and the standard RBAC match.
//! - [`rbac`]: the export, in a stable order, as YAML ([`yaml`]).
//! - [`kubeconfig`]: a token's kubeconfig and a kube-apiserver's webhook kubeconfig.
//! - [`review`]: TokenReview and SubjectAccessReview as the apiserver sends them;
//!   [`authorize`](authorize::authorize) decides the latter.
//!
//! What the scheme guarantees: a name parses back ([`identity::parse_username`]) only for
//! the organization that issued it, so a review about another organization's principal gets
//! no opinion, never a grant; the export and the webhook grant the same rules (both read the
//! catalog), except that the webhook also enforces a personal token's scope, which RBAC
//! cannot express.

pub mod authorize;
pub mod identity;
pub mod kubeconfig;
pub mod rbac;
pub mod review;
pub mod rules;
pub mod yaml;

pub use authorize::authorize;
pub use identity::{group_name, identity, parse_username, username, K8sIdentity, NamedPrincipal};
pub use kubeconfig::{token_kubeconfig, webhook_kubeconfig};
pub use rbac::{export, to_yaml_stream, K8sObject};
pub use review::{AccessVerdict, SubjectAccessReview, SubjectAccessSpec, TokenReview};
