//! The identity provider an organization trusts: entity ID, single sign-on URL and signing
//! certificates, from its metadata or typed in.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::hash::MessageDigest;
use openssl::x509::X509;
use serde::{Deserialize, Serialize};

use crate::error::{quote, SamlError};
use crate::xml::{attribute, walk, Name, Node, NS_DSIG, NS_METADATA, NS_PROTOCOL};

/// The largest metadata document read (Entra's, with its WS-Federation roles, is ~25 KiB).
pub const MAX_METADATA_BYTES: usize = 1024 * 1024;
/// The most signing certificates one identity provider may have (rollover needs two).
pub const MAX_CERTIFICATES: usize = 16;
/// The longest certificate input (PEM or base64) read.
const MAX_CERTIFICATE_INPUT: usize = 64 * 1024;
const MAX_ENTITY_ID: usize = 1024;
const MAX_URL: usize = 2048;

pub(crate) const HTTP_REDIRECT_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
pub(crate) const HTTP_POST_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// What Warden stores about an organization's identity provider. Plain data: a value read
/// back from storage is checked again where it is used ([`crate::verify_response`] refuses
/// one without a certificate or with a bad one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpSettings {
    /// The IdP's entityID: the Issuer of its responses.
    pub entity_id: String,
    /// Where AuthnRequests go (HTTP-Redirect binding).
    pub sso_url: String,
    /// Signing certificates, each base64 DER (no PEM armour, no whitespace). Never empty in
    /// a value built by [`IdpSettings::new`] or [`IdpSettings::from_metadata_xml`].
    pub certificates: Vec<String>,
}

/// What an administrator sees about one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateSummary {
    /// SHA-256 of the DER, as `AA:BB:…` (what IdP consoles show).
    pub sha256_fingerprint: String,
    /// The subject, as `CN=…, O=…`.
    pub subject: String,
    /// notAfter, RFC 3339 (UTC).
    pub not_after: String,
}

impl IdpSettings {
    /// Settings typed in by an administrator. Certificates may be PEM (one or more
    /// `-----BEGIN CERTIFICATE-----` blocks) or bare base64 DER (whitespace allowed); each
    /// must parse as an X.509 certificate. Duplicates are dropped. An empty list is
    /// [`SamlError::NoSigningCertificate`].
    pub fn new(
        entity_id: &str,
        sso_url: &str,
        certificate_pem_or_base64: &[impl AsRef<str>],
    ) -> Result<IdpSettings, SamlError> {
        let entity_id = check_entity_id("entity_id", entity_id)?;
        let sso_url = check_http_url("sso_url", sso_url)?;
        let mut certificates: Vec<String> = Vec::new();
        for (index, input) in certificate_pem_or_base64.iter().enumerate() {
            for certificate in parse_certificate_input(index, input.as_ref())? {
                let der = certificate
                    .to_der()
                    .map_err(|_| invalid_certificate(index, "cannot be re-encoded as DER"))?;
                let encoded = STANDARD.encode(der);
                if !certificates.contains(&encoded) {
                    certificates.push(encoded);
                }
            }
        }
        if certificates.is_empty() {
            return Err(SamlError::NoSigningCertificate);
        }
        if certificates.len() > MAX_CERTIFICATES {
            return Err(SamlError::InvalidSetting {
                field: "certificates",
                reason: format!("more than {MAX_CERTIFICATES} certificates"),
            });
        }
        Ok(IdpSettings {
            entity_id,
            sso_url,
            certificates,
        })
    }

    /// Settings from the IdP's metadata: an `EntityDescriptor` with an `IDPSSODescriptor`
    /// supporting SAML 2.0 (or an `EntitiesDescriptor` holding exactly one such entity).
    /// Takes the entityID, the HTTP-Redirect SingleSignOnService (else HTTP-POST) and every
    /// certificate of a KeyDescriptor with `use="signing"` or no `use`. Metadata without a
    /// signing certificate is [`SamlError::NoSigningCertificate`]. The metadata's own
    /// signature, validUntil and cacheDuration are not checked: an administrator pastes or
    /// uploads it.
    pub fn from_metadata_xml(xml: &str) -> Result<IdpSettings, SamlError> {
        if xml.len() > MAX_METADATA_BYTES {
            return Err(SamlError::TooLarge {
                what: "metadata document",
                size: xml.len(),
                limit: MAX_METADATA_BYTES,
            });
        }
        let entities = read_metadata(xml).map_err(invalid_metadata)?;
        let mut idp_entities = entities
            .into_iter()
            .filter(|entity| !entity.idp_descriptors.is_empty());
        let entity = idp_entities.next().ok_or_else(|| {
            invalid_metadata(
                "no EntityDescriptor with an IDPSSODescriptor supporting SAML 2.0 \
                 (is this a service provider's metadata?)",
            )
        })?;
        if idp_entities.next().is_some() {
            return Err(invalid_metadata(
                "more than one identity provider in this document: paste the metadata of one",
            ));
        }
        let entity_id = entity
            .entity_id
            .ok_or_else(|| invalid_metadata("the EntityDescriptor has no entityID"))?;
        let [descriptor] = entity.idp_descriptors.as_slice() else {
            return Err(invalid_metadata(
                "the entity has more than one SAML 2.0 IDPSSODescriptor",
            ));
        };
        let sso_url = descriptor
            .sso_location(HTTP_REDIRECT_BINDING)
            .or_else(|| descriptor.sso_location(HTTP_POST_BINDING))
            .ok_or_else(|| {
                invalid_metadata(
                    "no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding",
                )
            })?;
        let certificates: Vec<&str> = descriptor
            .keys
            .iter()
            .filter(|key| key.is_signing())
            .flat_map(|key| key.certificates.iter().map(String::as_str))
            .collect();
        if certificates.is_empty() {
            return Err(SamlError::NoSigningCertificate);
        }
        IdpSettings::new(&entity_id, sso_url, &certificates).map_err(|error| match error {
            SamlError::InvalidSetting { field, reason } => {
                invalid_metadata(format!("{field}: {reason}"))
            }
            other => other,
        })
    }

    /// Checks a value read back from storage as [`IdpSettings::new`] would.
    pub fn validate(&self) -> Result<(), SamlError> {
        check_entity_id("entity_id", &self.entity_id)?;
        check_http_url("sso_url", &self.sso_url)?;
        SigningCertificates::from_settings(self).map(|_| ())
    }

    /// Fingerprint, subject and expiry of each certificate, in order.
    pub fn certificate_summaries(&self) -> Result<Vec<CertificateSummary>, SamlError> {
        self.certificates
            .iter()
            .enumerate()
            .map(|(index, encoded)| summarize(index, &decode_stored_certificate(index, encoded)?))
            .collect()
    }
}

fn invalid_metadata(reason: impl Into<String>) -> SamlError {
    SamlError::InvalidMetadata {
        reason: reason.into(),
    }
}

fn invalid_certificate(index: usize, reason: &str) -> SamlError {
    SamlError::InvalidCertificate {
        index,
        reason: reason.to_string(),
    }
}

pub(crate) fn check_entity_id(field: &'static str, value: &str) -> Result<String, SamlError> {
    let value = value.trim();
    let reason = if value.is_empty() {
        "must not be empty"
    } else if value.len() > MAX_ENTITY_ID {
        "is longer than 1024 bytes"
    } else if value.chars().any(char::is_control) {
        "contains control characters"
    } else {
        return Ok(value.to_string());
    };
    Err(SamlError::InvalidSetting {
        field,
        reason: reason.to_string(),
    })
}

/// An absolute http(s) URL with a host; returned trimmed but otherwise as written (an IdP
/// compares Destination strings exactly).
pub(crate) fn check_http_url(field: &'static str, value: &str) -> Result<String, SamlError> {
    let value = value.trim();
    let invalid = |reason: String| SamlError::InvalidSetting { field, reason };
    if value.len() > MAX_URL {
        return Err(invalid("is longer than 2048 bytes".to_string()));
    }
    let url = url::Url::parse(value)
        .map_err(|e| invalid(format!("{:?} is not an absolute URL ({e})", quote(value))))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(invalid(format!("{:?} is not an http(s) URL", quote(value))));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(format!("{:?} has no host", quote(value))));
    }
    if url.fragment().is_some() {
        return Err(invalid(format!("{:?} has a #fragment", quote(value))));
    }
    Ok(value.to_string())
}

/// PEM (one or more CERTIFICATE blocks) or base64 DER. The input itself never appears in
/// an error: an administrator may have pasted a private key by mistake.
fn parse_certificate_input(index: usize, input: &str) -> Result<Vec<X509>, SamlError> {
    let input = input.trim();
    if input.len() > MAX_CERTIFICATE_INPUT {
        return Err(invalid_certificate(index, "is longer than 64 KiB"));
    }
    if input.contains("PRIVATE KEY-----") {
        return Err(invalid_certificate(
            index,
            "this is a private key: paste the identity provider's certificate, never a private key",
        ));
    }
    if input.contains("-----BEGIN") {
        let certificates = X509::stack_from_pem(input.as_bytes()).map_err(|_| {
            invalid_certificate(index, "the PEM does not parse as X.509 certificates")
        })?;
        if certificates.is_empty() {
            return Err(invalid_certificate(
                index,
                "the PEM has no -----BEGIN CERTIFICATE----- block",
            ));
        }
        return Ok(certificates);
    }
    Ok(vec![certificate_from_base64(index, input)?])
}

fn certificate_from_base64(index: usize, input: &str) -> Result<X509, SamlError> {
    let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err(invalid_certificate(index, "is empty"));
    }
    let der = STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| invalid_certificate(index, "is neither PEM nor base64"))?;
    let certificate = X509::from_der(&der)
        .map_err(|_| invalid_certificate(index, "does not parse as an X.509 certificate (DER)"))?;
    // d2i ignores trailing bytes: refuse them rather than keep what was not read.
    if certificate.to_der().ok().as_deref() != Some(der.as_slice()) {
        return Err(invalid_certificate(
            index,
            "has bytes after the X.509 certificate",
        ));
    }
    Ok(certificate)
}

/// A stored certificate: canonical base64 DER (whitespace tolerated).
fn decode_stored_certificate(index: usize, encoded: &str) -> Result<X509, SamlError> {
    if encoded.len() > MAX_CERTIFICATE_INPUT {
        return Err(invalid_certificate(index, "is longer than 64 KiB"));
    }
    certificate_from_base64(index, encoded)
}

fn summarize(index: usize, certificate: &X509) -> Result<CertificateSummary, SamlError> {
    let digest = certificate
        .digest(MessageDigest::sha256())
        .map_err(|_| invalid_certificate(index, "cannot be hashed"))?;
    let sha256_fingerprint = digest
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let subject = certificate
        .subject_name()
        .entries()
        .map(|entry| {
            let key = entry.object().nid().short_name().unwrap_or("?");
            let value = entry.data().to_string().unwrap_or_else(|_| "?".to_string());
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ");
    let not_after = rfc3339(certificate.not_after())
        .ok_or_else(|| invalid_certificate(index, "has a notAfter that cannot be read"))?;
    Ok(CertificateSummary {
        sha256_fingerprint,
        subject,
        not_after,
    })
}

fn rfc3339(time: &Asn1TimeRef) -> Option<String> {
    let epoch = Asn1Time::from_unix(0).ok()?;
    let diff = epoch.diff(time).ok()?;
    let seconds = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
    chrono::DateTime::<chrono::Utc>::from_timestamp(seconds, 0)
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// The certificates samael is given: at least one by construction (`first` is not
/// optional), each checked to be an X.509 certificate.
#[derive(Debug, Clone)]
pub(crate) struct SigningCertificates {
    first: String,
    rest: Vec<String>,
}

impl SigningCertificates {
    pub(crate) fn from_settings(idp: &IdpSettings) -> Result<SigningCertificates, SamlError> {
        if idp.certificates.len() > MAX_CERTIFICATES {
            return Err(SamlError::InvalidSetting {
                field: "certificates",
                reason: format!("more than {MAX_CERTIFICATES} certificates"),
            });
        }
        let mut canonical = idp
            .certificates
            .iter()
            .enumerate()
            .map(|(index, encoded)| {
                let der = decode_stored_certificate(index, encoded)?
                    .to_der()
                    .map_err(|_| invalid_certificate(index, "cannot be re-encoded as DER"))?;
                Ok(STANDARD.encode(der))
            })
            .collect::<Result<Vec<String>, SamlError>>()?
            .into_iter();
        let first = canonical.next().ok_or(SamlError::NoSigningCertificate)?;
        Ok(SigningCertificates {
            first,
            rest: canonical.collect(),
        })
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.first.as_str()).chain(self.rest.iter().map(String::as_str))
    }

    pub(crate) fn len(&self) -> usize {
        1 + self.rest.len()
    }
}

// --- Metadata ------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct EntityMeta {
    entity_id: Option<String>,
    /// IDPSSODescriptors whose protocolSupportEnumeration lists SAML 2.0.
    idp_descriptors: Vec<IdpDescriptorMeta>,
}

#[derive(Debug, Default)]
struct IdpDescriptorMeta {
    keys: Vec<KeyMeta>,
    /// (Binding, Location)
    sso: Vec<(String, String)>,
}

impl IdpDescriptorMeta {
    fn sso_location(&self, binding: &str) -> Option<&str> {
        self.sso
            .iter()
            .find(|(b, _)| b == binding)
            .map(|(_, location)| location.as_str())
    }
}

#[derive(Debug, Default)]
struct KeyMeta {
    key_use: Option<String>,
    certificates: Vec<String>,
}

impl KeyMeta {
    fn is_signing(&self) -> bool {
        match self.key_use.as_deref().map(str::trim) {
            None | Some("") | Some("signing") => true,
            Some(_) => false,
        }
    }
}

/// Reads every EntityDescriptor (the root, or inside EntitiesDescriptors).
fn read_metadata(xml: &str) -> Result<Vec<EntityMeta>, String> {
    let mut entities: Vec<EntityMeta> = Vec::new();
    let mut stack: Vec<Name> = Vec::new();
    // Where the walk is, in the parts that matter.
    let mut entity: Option<EntityMeta> = None;
    let mut descriptor: Option<IdpDescriptorMeta> = None;
    let mut key: Option<KeyMeta> = None;
    let mut certificate: Option<String> = None;
    walk(xml, &mut |node| {
        match node {
            Node::Open {
                namespace,
                local,
                attributes,
            } => {
                let name = Name {
                    namespace: namespace.map(str::to_string),
                    local: local.to_string(),
                };
                let parent = stack.last();
                let is_md = |local: &str| name.is(NS_METADATA, local);
                let parent_is = |namespace: &str, local: &str| {
                    parent.is_some_and(|parent| parent.is(namespace, local))
                };
                if stack.is_empty() && !is_md("EntityDescriptor") && !is_md("EntitiesDescriptor") {
                    return Err(
                        "the root element is neither a SAML 2.0 EntityDescriptor nor an \
                         EntitiesDescriptor"
                            .to_string(),
                    );
                }
                if is_md("EntityDescriptor")
                    && (stack.is_empty() || parent_is(NS_METADATA, "EntitiesDescriptor"))
                {
                    entity = Some(EntityMeta {
                        entity_id: attribute(attributes, "entityID").map(|s| s.trim().to_string()),
                        idp_descriptors: Vec::new(),
                    });
                } else if is_md("IDPSSODescriptor")
                    && parent_is(NS_METADATA, "EntityDescriptor")
                    && entity.is_some()
                {
                    let protocols =
                        attribute(attributes, "protocolSupportEnumeration").unwrap_or_default();
                    if protocols.split_whitespace().any(|p| p == NS_PROTOCOL) {
                        descriptor = Some(IdpDescriptorMeta::default());
                    }
                } else if is_md("KeyDescriptor")
                    && parent_is(NS_METADATA, "IDPSSODescriptor")
                    && descriptor.is_some()
                {
                    key = Some(KeyMeta {
                        key_use: attribute(attributes, "use").map(str::to_string),
                        certificates: Vec::new(),
                    });
                } else if is_md("SingleSignOnService") && parent_is(NS_METADATA, "IDPSSODescriptor")
                {
                    if let Some(descriptor) = descriptor.as_mut() {
                        if let (Some(binding), Some(location)) = (
                            attribute(attributes, "Binding"),
                            attribute(attributes, "Location"),
                        ) {
                            descriptor
                                .sso
                                .push((binding.trim().to_string(), location.trim().to_string()));
                        }
                    }
                } else if name.is(NS_DSIG, "X509Certificate")
                    && key.is_some()
                    && in_key_info(&stack)
                {
                    certificate = Some(String::new());
                }
                stack.push(name);
            }
            Node::Text(text) => {
                if let Some(buffer) = certificate.as_mut() {
                    if buffer.len() + text.len() > MAX_CERTIFICATE_INPUT {
                        return Err("an X509Certificate is longer than 64 KiB".to_string());
                    }
                    buffer.push_str(text);
                }
            }
            Node::Close => {
                let Some(name) = stack.pop() else {
                    return Err("an end tag without a start".to_string());
                };
                if name.is(NS_DSIG, "X509Certificate") {
                    if let (Some(text), Some(key)) = (certificate.take(), key.as_mut()) {
                        key.certificates.push(text);
                    }
                } else if name.is(NS_METADATA, "KeyDescriptor") {
                    if let (Some(done), Some(descriptor)) = (key.take(), descriptor.as_mut()) {
                        descriptor.keys.push(done);
                    }
                } else if name.is(NS_METADATA, "IDPSSODescriptor") {
                    if let (Some(done), Some(entity)) = (descriptor.take(), entity.as_mut()) {
                        entity.idp_descriptors.push(done);
                    }
                } else if name.is(NS_METADATA, "EntityDescriptor") {
                    if let Some(done) = entity.take() {
                        entities.push(done);
                    }
                }
            }
        }
        Ok(())
    })?;
    Ok(entities)
}

/// `…/KeyDescriptor/ds:KeyInfo/ds:X509Data` is the top of the stack.
fn in_key_info(stack: &[Name]) -> bool {
    matches!(
        stack,
        [.., key, info, data]
            if key.is(NS_METADATA, "KeyDescriptor")
                && info.is(NS_DSIG, "KeyInfo")
                && data.is(NS_DSIG, "X509Data")
    )
}
