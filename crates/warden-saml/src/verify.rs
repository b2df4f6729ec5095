//! The assertion consumer: verifies a `SAMLResponse` (HTTP-POST binding).

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use samael::crypto::{AllowedSignatureAlgorithm, CryptoProvider, ReduceMode};
use samael::key_info::{KeyInfo, X509Data};
use samael::metadata::{Endpoint, EntityDescriptor, IdpSsoDescriptor, KeyDescriptor};
use samael::schema::{Assertion, SubjectConfirmationData};
use samael::service_provider::ServiceProvider;
use serde::{Deserialize, Serialize};

use crate::error::{from_samael, malformed, quote, quote_opt, SamlError};
use crate::idp::{IdpSettings, SigningCertificates, HTTP_REDIRECT_BINDING};
use crate::sp::ServiceProviderIdentity;
use crate::xml::{response_outline, NS_PROTOCOL};

/// The largest `SAMLResponse` form value read (base64), checked before decoding.
pub const MAX_RESPONSE_BASE64: usize = 256 * 1024;
const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// SHA-2 only: RSA-SHA1 (and SHA-1 digests) are refused.
const ALLOWED_ALGORITHMS: [AllowedSignatureAlgorithm; 6] = [
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::RsaSha384,
    AllowedSignatureAlgorithm::RsaSha512,
    AllowedSignatureAlgorithm::EcdsaSha256,
    AllowedSignatureAlgorithm::EcdsaSha384,
    AllowedSignatureAlgorithm::EcdsaSha512,
];

/// How lenient verification is about time. samael reads the clock itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyOptions {
    /// Allowed difference between Warden's clock and the IdP's, applied to NotBefore,
    /// NotOnOrAfter and a future IssueInstant (samael's `max_clock_skew`). Default 60 s.
    pub clock_skew: Duration,
    /// How long after its IssueInstant a response or assertion is still accepted (samael's
    /// `max_issue_delay`). Default 300 s.
    pub max_age: Duration,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            clock_skew: Duration::from_secs(60),
            max_age: Duration::from_secs(300),
        }
    }
}

/// What a verified response says: signed by the organization's IdP, meant for this SP, now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedAssertion {
    /// The IdP entity ID that issued it.
    pub issuer: String,
    /// The assertion's ID: keep it in a replay cache until `not_on_or_after`.
    pub assertion_id: String,
    /// The request this answers: the bearer SubjectConfirmationData's InResponseTo, else the
    /// signed Response's. `None` for an IdP-initiated sign-in. The CALLER must check it
    /// against its pending request IDs (and refuse `None` when IdP-initiated sign-in is off).
    pub in_response_to: Option<String>,
    /// The earliest of Conditions/@NotOnOrAfter and the bearer SubjectConfirmationData's
    /// NotOnOrAfter: how long the assertion ID must be remembered.
    pub not_on_or_after: Option<SystemTime>,
    /// Subject/NameID.
    pub name_id: Option<String>,
    /// Subject/NameID/@Format.
    pub name_id_format: Option<String>,
    /// AuthnStatement/@SessionIndex (the first one that has one).
    pub session_index: Option<String>,
    /// Attribute Name → values; each attribute's FriendlyName indexes the same values too,
    /// unless another attribute has that Name.
    pub attributes: BTreeMap<String, Vec<String>>,
}

impl VerifiedAssertion {
    /// The first value of an attribute, the name compared case-insensitively (an exact
    /// match wins).
    pub fn attribute(&self, name: &str) -> Option<&str> {
        let values = self.attributes.get(name).or_else(|| {
            self.attributes
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, values)| values)
        })?;
        values.first().map(String::as_str)
    }
}

/// Verifies the `SAMLResponse` form value posted to the ACS URL. See the crate
/// documentation for what is checked and what is left to the caller.
pub fn verify_response(
    sp: &ServiceProviderIdentity,
    idp: &IdpSettings,
    saml_response_base64: &str,
    options: &VerifyOptions,
) -> Result<VerifiedAssertion, SamlError> {
    if saml_response_base64.len() > MAX_RESPONSE_BASE64 {
        return Err(SamlError::TooLarge {
            what: "SAMLResponse",
            size: saml_response_base64.len(),
            limit: MAX_RESPONSE_BASE64,
        });
    }
    // The guard: samael skips signature verification when it has no certificate.
    if idp.certificates.is_empty() {
        return Err(SamlError::NoSigningCertificate);
    }
    let certificates = SigningCertificates::from_settings(idp)?;
    sp.validate()?;

    // Browsers post the value as sent; some IdPs wrap base64 at 76 columns.
    let compact: Vec<u8> = saml_response_base64
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let bytes = STANDARD
        .decode(&compact)
        .map_err(|_| malformed("SAMLResponse is not base64"))?;
    let xml = String::from_utf8(bytes).map_err(|_| malformed("the response is not UTF-8"))?;

    // Refusals that need no signature (and explain an unsigned error response).
    let outline = response_outline(&xml).map_err(malformed)?;
    if outline.encrypted_assertions > 0 {
        return Err(SamlError::EncryptedAssertionUnsupported);
    }
    if outline.assertions > 1 {
        return Err(SamlError::MultipleAssertions);
    }
    match outline.status.as_deref() {
        Some(STATUS_SUCCESS) => {}
        Some(status) => {
            return Err(SamlError::StatusNotSuccess {
                status: quote(status),
                sub_status: quote_opt(outline.sub_status.as_deref()),
                message: quote_opt(outline.status_message.as_deref()),
            })
        }
        None => return Err(malformed("the Response has no Status")),
    }
    if outline.assertions == 0 {
        return Err(SamlError::NoAssertion);
    }
    if let Some(destination) = outline.destination.as_deref() {
        if destination != sp.acs_url {
            return Err(SamlError::WrongDestination {
                expected: sp.acs_url.clone(),
                found: Some(quote(destination)),
            });
        }
    }
    if let Some(issuer) = outline.issuer.as_deref() {
        if issuer != idp.entity_id {
            return Err(SamlError::WrongIssuer {
                expected: idp.entity_id.clone(),
                found: Some(quote(issuer)),
            });
        }
    }
    if outline.signatures == 0 {
        return Err(SamlError::NotSigned);
    }

    let provider = service_provider(sp, idp, &certificates, options)?;
    // samael is not expected to panic on what reaches it, but a panic there must not take
    // the server's request down with it: it becomes an error.
    let parsed = std::panic::catch_unwind(AssertUnwindSafe(|| {
        provider.parse_xml_response_with_mode(&xml, None, ReduceMode::ValidateAndMarkNoAncestors)
    }))
    .map_err(|_| SamlError::Internal {
        reason: "samael panicked while verifying the response".to_string(),
    })?;
    let assertion =
        parsed.map_err(|e| from_samael(e, &sp.acs_url, &idp.entity_id, &sp.entity_id))?;

    // What samael does not check, on the verified assertion.
    check_audience(&assertion, sp)?;
    let skew = chrono_duration("clock_skew", options.clock_skew)?;
    if assertion.issue_instant - skew > DateTime::<Utc>::from(SystemTime::now()) {
        return Err(SamlError::NotYetValid);
    }
    let confirmations = bearer_confirmations(&assertion, &sp.acs_url);
    if confirmations.is_empty() {
        return Err(SamlError::SubjectConfirmationMissing);
    }
    let assertion_in_response_to = single_in_response_to(&confirmations)?;
    let response_in_response_to = match outline.in_response_to.as_deref() {
        Some(_) => signed_response_in_response_to(&xml, &certificates)?,
        None => None,
    };
    // The Response's InResponseTo, signed or not, may not contradict the assertion's.
    if let (Some(response), Some(assertion)) = (
        outline.in_response_to.as_deref(),
        assertion_in_response_to.as_deref(),
    ) {
        if response != assertion {
            return Err(SamlError::InResponseToMismatch);
        }
    }
    let in_response_to = assertion_in_response_to.or(response_in_response_to);

    let not_on_or_after = confirmations
        .iter()
        .filter_map(|data| data.not_on_or_after)
        .chain(
            assertion
                .conditions
                .as_ref()
                .and_then(|conditions| conditions.not_on_or_after),
        )
        .min()
        .map(SystemTime::from);

    let name_id = assertion
        .subject
        .as_ref()
        .and_then(|subject| subject.name_id.as_ref());
    let session_index = assertion
        .authn_statements
        .iter()
        .flatten()
        .find_map(|statement| statement.session_index.clone());

    Ok(VerifiedAssertion {
        issuer: assertion.issuer.value.clone().unwrap_or_default(),
        assertion_id: assertion.id.clone(),
        in_response_to,
        not_on_or_after,
        name_id: name_id.map(|n| n.value.trim().to_string()),
        name_id_format: name_id.and_then(|n| n.format.clone()),
        session_index,
        attributes: attributes(&assertion),
    })
}

/// samael's service provider for one verification. It is always given the certificates:
/// `SigningCertificates` holds at least one, and the result is checked again below.
fn service_provider(
    sp: &ServiceProviderIdentity,
    idp: &IdpSettings,
    certificates: &SigningCertificates,
    options: &VerifyOptions,
) -> Result<ServiceProvider, SamlError> {
    let key_descriptors: Vec<KeyDescriptor> = certificates
        .iter()
        .map(|certificate| KeyDescriptor {
            key_use: Some("signing".to_string()),
            key_info: KeyInfo {
                id: None,
                x509_data: Some(X509Data {
                    certificates: vec![certificate.to_string()],
                }),
            },
            encryption_methods: None,
        })
        .collect();
    let idp_metadata = EntityDescriptor {
        entity_id: Some(idp.entity_id.clone()),
        idp_sso_descriptors: Some(vec![IdpSsoDescriptor {
            id: None,
            valid_until: None,
            cache_duration: None,
            protocol_support_enumeration: Some(NS_PROTOCOL.to_string()),
            error_url: None,
            signature: None,
            key_descriptors,
            organization: None,
            contact_people: Vec::new(),
            artifact_resolution_service: Vec::new(),
            single_logout_services: Vec::new(),
            manage_name_id_services: Vec::new(),
            name_id_formats: Vec::new(),
            want_authn_requests_signed: None,
            single_sign_on_services: vec![Endpoint {
                binding: HTTP_REDIRECT_BINDING.to_string(),
                location: idp.sso_url.clone(),
                response_location: None,
            }],
            name_id_mapping_services: Vec::new(),
            assertion_id_request_services: Vec::new(),
            attribute_profiles: Vec::new(),
            attributes: Vec::new(),
        }]),
        ..EntityDescriptor::default()
    };
    let provider = ServiceProvider {
        entity_id: Some(sp.entity_id.clone()),
        acs_url: Some(sp.acs_url.clone()),
        metadata_url: None,
        slo_url: None,
        idp_metadata,
        // samael then skips InResponseTo; the caller checks `in_response_to`.
        allow_idp_initiated: true,
        max_issue_delay: chrono_duration("max_age", options.max_age)?,
        max_clock_skew: chrono_duration("clock_skew", options.clock_skew)?,
        allowed_signature_algorithms: Some(ALLOWED_ALGORITHMS.to_vec()),
        ..ServiceProvider::default()
    };
    // samael verifies only `if let Some(certs) = self.idp_signing_certs()?`: make sure.
    match provider.idp_signing_certs() {
        Ok(Some(found)) if found.len() == certificates.len() => Ok(provider),
        Ok(_) => Err(SamlError::NoSigningCertificate),
        Err(e) => Err(from_samael(e, &sp.acs_url, &idp.entity_id, &sp.entity_id)),
    }
}

fn chrono_duration(field: &'static str, duration: Duration) -> Result<chrono::Duration, SamlError> {
    if duration > Duration::from_secs(24 * 3600) {
        return Err(SamlError::InvalidSetting {
            field,
            reason: "longer than a day".to_string(),
        });
    }
    chrono::Duration::from_std(duration).map_err(|_| SamlError::InvalidSetting {
        field,
        reason: "out of range".to_string(),
    })
}

/// Every AudienceRestriction must name this SP, and there must be at least one (samael
/// accepts an assertion without any, and one where any single restriction matches).
fn check_audience(assertion: &Assertion, sp: &ServiceProviderIdentity) -> Result<(), SamlError> {
    let restrictions = assertion
        .conditions
        .as_ref()
        .and_then(|conditions| conditions.audience_restrictions.as_ref());
    let ok = restrictions.is_some_and(|restrictions| {
        !restrictions.is_empty()
            && restrictions.iter().all(|restriction| {
                restriction
                    .audience
                    .iter()
                    .any(|audience| audience.trim() == sp.entity_id)
            })
    });
    if ok {
        Ok(())
    } else {
        Err(SamlError::WrongAudience {
            expected: sp.entity_id.clone(),
        })
    }
}

/// The bearer SubjectConfirmationData addressed to this ACS (samael accepted at least one).
fn bearer_confirmations<'a>(
    assertion: &'a Assertion,
    acs_url: &str,
) -> Vec<&'a SubjectConfirmationData> {
    assertion
        .subject
        .iter()
        .flat_map(|subject| subject.subject_confirmations.iter().flatten())
        .filter(|confirmation| confirmation.method.as_deref() == Some(BEARER))
        .filter_map(|confirmation| confirmation.subject_confirmation_data.as_ref())
        .filter(|data| data.recipient.as_deref() == Some(acs_url))
        .collect()
}

fn single_in_response_to(
    confirmations: &[&SubjectConfirmationData],
) -> Result<Option<String>, SamlError> {
    let mut found: Option<&str> = None;
    for data in confirmations {
        if let Some(id) = data.in_response_to.as_deref() {
            match found {
                Some(previous) if previous != id => return Err(SamlError::InResponseToMismatch),
                _ => found = Some(id),
            }
        }
    }
    Ok(found.map(str::to_string))
}

/// The Response's InResponseTo, if the Response element itself is covered by a verified
/// signature: the verified document samael works from (xmlsec's reduction to what the
/// signatures cover) has the Response as its root only then.
fn signed_response_in_response_to(
    xml: &str,
    certificates: &SigningCertificates,
) -> Result<Option<String>, SamlError> {
    let certs: Vec<samael::crypto::CertificateDer> = certificates
        .iter()
        .map(|certificate| {
            samael::crypto::decode_x509_cert(certificate).map_err(|_| {
                SamlError::InvalidCertificate {
                    index: 0,
                    reason: "not base64".to_string(),
                }
            })
        })
        .collect::<Result<_, _>>()?;
    let reduced = std::panic::catch_unwind(|| {
        samael::crypto::Crypto::reduce_xml_to_signed_with_allowed_algorithms(
            xml,
            &certs,
            ReduceMode::ValidateAndMarkNoAncestors,
            Some(&ALLOWED_ALGORITHMS),
        )
    })
    .map_err(|_| SamlError::Internal {
        reason: "samael panicked while reducing the response".to_string(),
    })?
    .map_err(|_| SamlError::SignatureInvalid)?;
    match response_outline(&reduced) {
        Ok(response) => Ok(response.in_response_to),
        // The root is the Assertion: only the assertion is signed.
        Err(_) => Ok(None),
    }
}

fn attributes(assertion: &Assertion) -> BTreeMap<String, Vec<String>> {
    let all: Vec<&samael::attribute::Attribute> = assertion
        .attribute_statements
        .iter()
        .flatten()
        .flat_map(|statement| statement.attributes.iter())
        .collect();
    let values = |attribute: &samael::attribute::Attribute| -> Vec<String> {
        attribute
            .values
            .iter()
            .filter_map(|value| value.value.clone())
            .collect()
    };
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for attribute in &all {
        if let Some(name) = attribute.name.as_deref() {
            map.entry(name.to_string())
                .or_default()
                .extend(values(attribute));
        }
    }
    let names: Vec<String> = map.keys().cloned().collect();
    for attribute in &all {
        if let Some(friendly) = attribute.friendly_name.as_deref() {
            if attribute.name.as_deref() != Some(friendly) && !names.iter().any(|n| n == friendly) {
                map.entry(friendly.to_string())
                    .or_default()
                    .extend(values(attribute));
            }
        }
    }
    map
}
