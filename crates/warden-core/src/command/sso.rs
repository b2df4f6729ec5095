//! Single sign-on (spec section 10): the organization's SAML identity provider, and whether
//! signing in through it is the only way in. The server parses metadata and certificates (the
//! core does no cryptography) and hands over plain settings; the core keeps the rules that do
//! not need cryptography: at least one signing certificate (a SAML library given none skips
//! the signature check), SSO enforced only with a break-glass admin, and no SAML removal while
//! SCIM tokens depend on it.

use std::sync::Arc;

use super::{Apply, AreaCommand, Key};
use crate::domain::*;
use crate::error::DomainError;
use crate::{resolve, validate};

/// At most this many signing certificates: an IdP rolling its key over publishes two.
pub const MAX_IDP_CERTIFICATES: usize = 4;
/// A base64 DER certificate longer than this is not a signing certificate.
const MAX_CERTIFICATE: usize = 16 * 1024;
const MAX_ENTITY_ID: usize = 1024;
const MAX_ATTRIBUTE_NAME: usize = 256;

/// The identity provider as the server read it from metadata or from the admin's form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpInput {
    pub entity_id: String,
    pub sso_url: String,
    /// Base64 DER, already parsed as X.509 by the server.
    pub certificates: Vec<String>,
    pub attributes: SamlAttributeNames,
    pub allow_idp_initiated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsoCommand {
    /// Sets (or replaces) the identity provider; enforcement and the break-glass admin stay.
    Configure { idp: IdpInput },
    /// Enforces SSO (`break_glass` required: the admin who may still use a password) or stops
    /// enforcing it.
    Enforce {
        enforced: bool,
        break_glass: Option<Key>,
    },
    /// Removes the SAML configuration (refused while SCIM tokens exist: provisioning needs it).
    Remove,
}

impl AreaCommand for SsoCommand {
    fn required_action(&self) -> &'static str {
        match self {
            SsoCommand::Configure { .. } | SsoCommand::Enforce { .. } => "iam.saml.update",
            SsoCommand::Remove => "iam.saml.delete",
        }
    }

    fn target(&self) -> Option<&str> {
        match self {
            SsoCommand::Enforce {
                break_glass: Some(user),
                ..
            } => Some(user.as_str()),
            _ => None,
        }
    }

    fn target_id(&self, state: &OrgState) -> Option<String> {
        let key = self.target()?;
        resolve::user(state, key).ok().map(|u| u.id.to_string())
    }

    fn apply(self, cx: &mut Apply<'_>) -> Result<String, DomainError> {
        let org_id = cx.state.org.id.to_string();
        let current = cx.state.org.sso.clone();
        let settings = match self {
            SsoCommand::Configure { idp } => {
                let idp = validate_idp(idp)?;
                let (enforced, break_glass) = current
                    .as_deref()
                    .map(|s| (s.enforced, s.break_glass.clone()))
                    .unwrap_or((false, None));
                Some(SsoSettings {
                    idp_entity_id: idp.entity_id,
                    idp_sso_url: idp.sso_url,
                    idp_certificates: idp.certificates,
                    attributes: idp.attributes,
                    allow_idp_initiated: idp.allow_idp_initiated,
                    enforced,
                    break_glass,
                    updated_at: cx.now,
                })
            }
            SsoCommand::Enforce {
                enforced,
                break_glass,
            } => {
                let Some(current) = current else {
                    return Err(DomainError::SsoNotConfigured);
                };
                let break_glass =
                    match (enforced, break_glass) {
                        (_, Some(key)) => {
                            let user = resolve::user(cx.state, key.as_str())?;
                            if user.status != UserStatus::Active {
                                return Err(DomainError::invalid(
                                    "break_glass",
                                    format!("`{}` is not active", user.email),
                                ));
                            }
                            Some(user.id.clone())
                        }
                        (true, None) => match current.break_glass.clone() {
                            Some(user) => Some(user),
                            None => return Err(DomainError::invalid(
                                "break_glass",
                                "enforcing SSO needs a break-glass admin: the one admin who may \
                                 still sign in with a password when the identity provider is down",
                            )),
                        },
                        (false, None) => current.break_glass.clone(),
                    };
                // Whether the break-glass user is an admin is an invariant of the result
                // (`invariants.rs`), so demoting them later is refused too.
                Some(SsoSettings {
                    enforced,
                    break_glass,
                    updated_at: cx.now,
                    ..SsoSettings::clone(&current)
                })
            }
            SsoCommand::Remove => {
                if current.is_none() {
                    return Err(DomainError::SsoNotConfigured);
                }
                let scim_tokens = cx
                    .state
                    .tokens
                    .values()
                    .filter(|t| t.kind == TokenKind::Scim)
                    .count();
                if scim_tokens > 0 {
                    return Err(DomainError::ProvisioningActive(scim_tokens));
                }
                None
            }
        };
        let org = Organization {
            sso: settings.map(Arc::new),
            ..cx.state.org.clone()
        };
        // Re-sending the same settings changes nothing (only the time would): keep the old.
        let unchanged = match (&org.sso, &cx.state.org.sso) {
            (Some(new), Some(old)) => {
                SsoSettings {
                    updated_at: old.updated_at,
                    ..SsoSettings::clone(new)
                } == **old
            }
            (None, None) => true,
            _ => false,
        };
        if !unchanged {
            cx.put_org(org);
        }
        Ok(org_id)
    }
}

fn validate_idp(idp: IdpInput) -> Result<IdpInput, DomainError> {
    let entity_id = idp.entity_id.trim().to_string();
    if entity_id.is_empty()
        || entity_id.chars().count() > MAX_ENTITY_ID
        || entity_id.chars().any(char::is_control)
    {
        return Err(DomainError::invalid(
            "entity_id",
            format!("must be the identity provider's entity id: 1 to {MAX_ENTITY_ID} characters"),
        ));
    }
    let sso_url = validate::http_url("sso_url", idp.sso_url.trim())?;
    if idp.certificates.is_empty() {
        return Err(DomainError::invalid(
            "certificates",
            "the identity provider's signing certificate is required: without one no \
             response could be verified",
        ));
    }
    if idp.certificates.len() > MAX_IDP_CERTIFICATES {
        return Err(DomainError::invalid(
            "certificates",
            format!("at most {MAX_IDP_CERTIFICATES} signing certificates"),
        ));
    }
    for cert in &idp.certificates {
        let base64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
        if cert.is_empty() || cert.len() > MAX_CERTIFICATE || !cert.chars().all(base64) {
            return Err(DomainError::invalid(
                "certificates",
                "each certificate must be base64 DER (PEM without its armour and line breaks)",
            ));
        }
    }
    for (field, name) in [
        ("attributes.email", &idp.attributes.email),
        ("attributes.first_name", &idp.attributes.first_name),
        ("attributes.last_name", &idp.attributes.last_name),
    ] {
        if name.trim().is_empty()
            || name.chars().count() > MAX_ATTRIBUTE_NAME
            || name.chars().any(char::is_control)
        {
            return Err(DomainError::invalid(
                field,
                format!("must be a SAML attribute name of 1 to {MAX_ATTRIBUTE_NAME} characters"),
            ));
        }
    }
    Ok(IdpInput {
        entity_id,
        sso_url,
        ..idp
    })
}
