//! Warden as the service provider of one organization: its metadata and its AuthnRequests.

use std::time::SystemTime;

use samael::metadata::{EntityDescriptor, IndexedEndpoint, SpSsoDescriptor};
use samael::schema::{AuthnRequest, Issuer};
use samael::traits::ToXml;
use serde::{Deserialize, Serialize};

use crate::error::SamlError;
use crate::idp::{check_entity_id, check_http_url, IdpSettings, HTTP_POST_BINDING};
use crate::xml::NS_PROTOCOL;

const NAME_ID_FORMAT_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
const NAME_ID_FORMAT_ENTITY: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
/// SAML Bindings 3.4.3: "RelayState data MUST NOT exceed 80 bytes in length".
pub const MAX_RELAY_STATE: usize = 80;
const MAX_REQUEST_ID: usize = 256;

/// Warden as one organization's service provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceProviderIdentity {
    /// The SP entityID: the Audience an assertion must name.
    pub entity_id: String,
    /// The AssertionConsumerService URL: the Destination and Recipient a response must name.
    pub acs_url: String,
}

impl ServiceProviderIdentity {
    /// `<public_base_url>/saml/<org_id>` and `<public_base_url>/saml/<org_id>/acs`. The org id
    /// is used as one path segment, so it may not contain `/`, `?`, `#` or whitespace.
    pub fn for_organization(
        public_base_url: &str,
        org_id: &str,
    ) -> Result<ServiceProviderIdentity, SamlError> {
        let base = check_http_url("public_base_url", public_base_url)?;
        if base.contains('?') {
            return Err(SamlError::InvalidSetting {
                field: "public_base_url",
                reason: "must not have a query string".to_string(),
            });
        }
        if org_id.is_empty()
            || org_id
                .chars()
                .any(|c| matches!(c, '/' | '?' | '#' | '%') || c.is_whitespace() || c.is_control())
        {
            return Err(SamlError::InvalidSetting {
                field: "org_id",
                reason: "must be one non-empty URL path segment".to_string(),
            });
        }
        let entity_id = format!("{}/saml/{org_id}", base.trim_end_matches('/'));
        let acs_url = format!("{entity_id}/acs");
        Ok(ServiceProviderIdentity { entity_id, acs_url })
    }

    /// Checks the entity ID (non-empty) and the ACS URL (absolute http(s)).
    pub fn validate(&self) -> Result<(), SamlError> {
        check_entity_id("sp.entity_id", &self.entity_id)?;
        check_http_url("sp.acs_url", &self.acs_url)?;
        Ok(())
    }
}

/// The SP metadata an administrator gives the identity provider: entityID, one
/// AssertionConsumerService (HTTP-POST) at the ACS URL, `WantAssertionsSigned="true"`,
/// NameIDFormat emailAddress. No SingleLogoutService, no validUntil (samael's own
/// `ServiceProvider::metadata` adds an SLO endpoint at `http://localhost:8080/saml/slo`
/// and a validUntil of now + 48 h, which is why it is not used here).
pub fn sp_metadata_xml(sp: &ServiceProviderIdentity) -> Result<String, SamlError> {
    sp.validate()?;
    let descriptor = SpSsoDescriptor {
        protocol_support_enumeration: Some(NS_PROTOCOL.to_string()),
        authn_requests_signed: Some(false),
        want_assertions_signed: Some(true),
        name_id_formats: Some(vec![NAME_ID_FORMAT_EMAIL.to_string()]),
        assertion_consumer_services: vec![IndexedEndpoint {
            binding: HTTP_POST_BINDING.to_string(),
            location: sp.acs_url.clone(),
            response_location: None,
            index: 0,
            is_default: Some(true),
        }],
        ..SpSsoDescriptor::default()
    };
    let entity = EntityDescriptor {
        entity_id: Some(sp.entity_id.clone()),
        sp_sso_descriptors: Some(vec![descriptor]),
        ..EntityDescriptor::default()
    };
    entity.to_string().map_err(|e| SamlError::Internal {
        reason: format!("writing SP metadata: {e}"),
    })
}

/// The URL to send the browser to for an SP-initiated sign-in (HTTP-Redirect binding): an
/// AuthnRequest with `ID = request_id` (store it: the response's InResponseTo must name
/// it), `Destination = idp.sso_url`, `AssertionConsumerServiceURL = sp.acs_url` with the
/// HTTP-POST ProtocolBinding, and `Issuer = sp.entity_id`; deflated, base64-encoded and
/// appended as `SAMLRequest` (and `RelayState`, unless empty) to the SSO URL's query. The
/// request is not signed (the SP metadata says `AuthnRequestsSigned="false"`).
///
/// `request_id` must be an XML ID (a letter or `_` first, then letters, digits, `_`, `-`,
/// `.`); `relay_state` at most 80 bytes (SAML bindings).
pub fn authn_request_redirect(
    sp: &ServiceProviderIdentity,
    idp: &IdpSettings,
    request_id: &str,
    relay_state: &str,
    now: SystemTime,
) -> Result<String, SamlError> {
    sp.validate()?;
    let sso_url = check_http_url("sso_url", &idp.sso_url)?;
    check_request_id(request_id)?;
    if relay_state.len() > MAX_RELAY_STATE {
        return Err(SamlError::InvalidSetting {
            field: "relay_state",
            reason: format!("longer than {MAX_RELAY_STATE} bytes (SAML bindings 3.4.3)"),
        });
    }
    let request = AuthnRequest {
        id: request_id.to_string(),
        version: "2.0".to_string(),
        issue_instant: chrono::DateTime::<chrono::Utc>::from(now),
        destination: Some(sso_url),
        issuer: Some(Issuer {
            format: Some(NAME_ID_FORMAT_ENTITY.to_string()),
            value: Some(sp.entity_id.clone()),
            ..Issuer::default()
        }),
        assertion_consumer_service_url: Some(sp.acs_url.clone()),
        protocol_binding: Some(HTTP_POST_BINDING.to_string()),
        ..AuthnRequest::default()
    };
    let url = request
        .redirect(relay_state)
        .map_err(|e| SamlError::Internal {
            reason: format!("encoding the AuthnRequest: {e}"),
        })?
        .ok_or_else(|| SamlError::Internal {
            reason: "the AuthnRequest has no Destination".to_string(),
        })?;
    Ok(url.to_string())
}

fn check_request_id(id: &str) -> Result<(), SamlError> {
    let mut chars = id.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if starts_well && rest_ok && id.len() <= MAX_REQUEST_ID {
        Ok(())
    } else {
        Err(SamlError::InvalidSetting {
            field: "request_id",
            reason: "must be an XML ID: a letter or '_' first, then letters, digits, '_', '-' or \
                     '.', at most 256 bytes"
                .to_string(),
        })
    }
}
