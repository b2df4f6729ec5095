//! The Kubernetes side (spec section 8): identities and the SubjectAccessReview decision
//! (`review.rs`), the RBAC export and kubeconfigs (`export.rs`), on one fixture.

mod export;
mod review;

use warden_core::command::{
    ClusterCommand, Key, NamespaceCommand, NewToken, ScopeInput, TokenCommand, TokenLifetime,
};
use warden_core::k8s::identity::EXTRA_TOKEN_ID;
use warden_core::k8s::review::{NonResourceAttributes, ResourceAttributes};
use warden_core::k8s::*;
use warden_core::*;

use crate::common::Org;

const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

/// An organization with clusters `prod` and `dev`, namespaces `ml` and `web`, and users:
/// alice (`r:full`, `w:deployments` in `ml`), bob (in `write`), carol (in `read`), dave
/// (nothing). The root user is in `admin`.
struct Fixture {
    org: Org,
    alice: UserId,
    bob: UserId,
    carol: UserId,
    dave: UserId,
    prod: ClusterId,
    dev: ClusterId,
}

fn fixture() -> Fixture {
    let mut org = Org::new();
    let prod = ClusterId::from(org.sys(ClusterCommand::Create {
        name: "prod".into(),
        api_server_url: "https://prod.k8s.test:6443".into(),
        ca_bundle: CA.into(),
    }));
    let dev = ClusterId::from(org.sys(ClusterCommand::Create {
        name: "dev".into(),
        api_server_url: "https://dev.k8s.test:6443".into(),
        ca_bundle: CA.into(),
    }));
    let alice = org.user("Alice@acme.test");
    let bob = org.user("bob@acme.test");
    let carol = org.user("carol@acme.test");
    let dave = org.user("dave@acme.test");
    org.join("write", &bob);
    org.join("read", &carol);
    for name in ["ml", "web"] {
        org.sys(NamespaceCommand::Create {
            name: name.into(),
            access: vec![],
        });
    }
    org.sys(NamespaceCommand::SetAccess {
        namespace: Key::from("ml"),
        user: Key::from(&alice),
        keys: vec!["r:full".into(), "w:deployments".into()],
    });
    Fixture {
        org,
        alice,
        bob,
        carol,
        dave,
        prod,
        dev,
    }
}

fn new_token(name: &str, n: u8, namespaces: &[&str], clusters: &[&str]) -> NewToken {
    NewToken {
        name: name.into(),
        note: String::new(),
        lifetime: TokenLifetime::OneHour,
        secret_hash: format!("{n:02x}").repeat(32),
        display_prefix: "wdn_x".into(),
        scope: ScopeInput {
            namespaces: namespaces.iter().map(|n| Key::from(*n)).collect(),
            clusters: clusters.iter().map(|c| Key::from(*c)).collect(),
        },
    }
}

impl Fixture {
    fn state(&self) -> &OrgState {
        self.org.state()
    }

    fn org_token(&mut self, token: NewToken) -> ApiToken {
        let id = self.org.sys(TokenCommand::CreateOrg { token });
        self.state().tokens[&TokenId::from(id)].clone()
    }

    fn personal_token(&mut self, owner: &UserId, token: NewToken) -> ApiToken {
        let id = self.org.sys(TokenCommand::CreatePersonal {
            owner: Key::from(owner),
            token,
        });
        self.state().tokens[&TokenId::from(id)].clone()
    }

    fn name_of(&self, principal: &PrincipalId) -> String {
        username(self.state(), principal).unwrap()
    }

    fn ask(&self, spec: &SubjectAccessSpec) -> AccessVerdict {
        authorize(&self.org.snapshot, &self.prod, spec, self.org.now())
    }
}

fn resource(user: &str, namespace: &str, verb: &str, group: &str, res: &str) -> SubjectAccessSpec {
    SubjectAccessSpec {
        user: user.into(),
        resource_attributes: Some(ResourceAttributes {
            namespace: namespace.into(),
            verb: verb.into(),
            group: group.into(),
            resource: res.into(),
            ..ResourceAttributes::default()
        }),
        ..SubjectAccessSpec::default()
    }
}

fn path(user: &str, verb: &str, path: &str) -> SubjectAccessSpec {
    SubjectAccessSpec {
        user: user.into(),
        non_resource_attributes: Some(NonResourceAttributes {
            path: path.into(),
            verb: verb.into(),
        }),
        ..SubjectAccessSpec::default()
    }
}

fn with_token(mut spec: SubjectAccessSpec, token: &ApiToken) -> SubjectAccessSpec {
    spec.extra
        .insert(EXTRA_TOKEN_ID.into(), vec![token.id.to_string()]);
    spec
}

fn allowed(verdict: &AccessVerdict) -> bool {
    verdict.allowed && !verdict.denied
}

fn denied(verdict: &AccessVerdict) -> bool {
    !verdict.allowed && verdict.denied
}

fn no_opinion(verdict: &AccessVerdict) -> bool {
    !verdict.allowed && !verdict.denied
}
