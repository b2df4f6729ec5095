//! An identity provider for tests (feature `test-idp`): no network, a fresh RSA-2048 key and
//! self-signed certificate, and SAML responses signed with xmlsec through samael
//! (RSA-SHA256, SHA-256 digests, enveloped + exclusive c14n transforms, the reference
//! naming the signed element's ID), plus the attacks Warden must refuse.
//!
//! ```ignore
//! let idp = TestIdp::generate("https://idp.example.test/metadata")?;
//! let settings = IdpSettings::from_metadata_xml(&idp.metadata_xml("https://idp.example.test/sso"))?;
//! let spec = ResponseSpec::new(&sp, idp.entity_id(), "ada@example.test");
//! let verified = verify_response(&sp, &settings, &idp.response(&spec)?, &VerifyOptions::default())?;
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509Name, X509};
use samael::crypto::{Crypto, CryptoProvider};

use crate::idp::IdpSettings;
use crate::sp::ServiceProviderIdentity;

/// Something the test IdP could not do (a test bug, not a verification result).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("test IdP: {0}")]
pub struct TestIdpError(String);

impl From<openssl::error::ErrorStack> for TestIdpError {
    fn from(error: openssl::error::ErrorStack) -> Self {
        TestIdpError(format!("openssl: {error}"))
    }
}

impl From<samael::crypto::CryptoError> for TestIdpError {
    fn from(error: samael::crypto::CryptoError) -> Self {
        TestIdpError(format!("signing: {error}"))
    }
}

/// What a response signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// The Response element (which covers the assertion inside it).
    Response,
    /// The Assertion only; the Response around it is unsigned.
    Assertion,
    /// The Assertion, then the Response around it.
    Both,
    /// Nothing.
    None,
}

/// Where the attacker's unsigned assertion goes in a signature-wrapping response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapOrder {
    /// The signed assertion, then the attacker's.
    SignedFirst,
    /// The attacker's assertion, then the signed one.
    AttackerFirst,
}

/// Everything a test may want to get wrong in a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseSpec {
    pub response_id: String,
    /// Response/@Destination (`None` leaves it out).
    pub destination: Option<String>,
    /// SubjectConfirmationData/@Recipient.
    pub recipient: String,
    /// The Audience (`None` leaves out the AudienceRestriction).
    pub audience: Option<String>,
    /// Response/@InResponseTo and (if `in_response_to_in_assertion`)
    /// SubjectConfirmationData/@InResponseTo.
    pub in_response_to: Option<String>,
    /// Whether the assertion repeats `in_response_to` (true) or only the Response has it.
    pub in_response_to_in_assertion: bool,
    /// The Issuer of the Response and of the Assertion.
    pub issuer: String,
    pub name_id: String,
    /// Attribute Name → values.
    pub attributes: BTreeMap<String, Vec<String>>,
    /// Attribute Name → FriendlyName, for the attributes that have one.
    pub friendly_names: BTreeMap<String, String>,
    pub assertion_id: String,
    pub session_index: Option<String>,
    /// IssueInstant of the Response and of the Assertion (and AuthnInstant).
    pub issue_instant: SystemTime,
    /// Conditions/@NotBefore.
    pub not_before: SystemTime,
    /// Conditions/@NotOnOrAfter and SubjectConfirmationData/@NotOnOrAfter.
    pub not_on_or_after: SystemTime,
    /// The top-level StatusCode.
    pub status: String,
    pub signing: Signing,
    /// Sign with RSA-SHA1 and SHA-1 digests instead (which Warden refuses).
    pub legacy_sha1: bool,
}

impl ResponseSpec {
    /// A response that should be accepted: addressed to `sp`, issued by `idp_entity_id` now,
    /// valid from 30 s ago for 5 minutes, IdP-initiated, Response signed.
    pub fn new(sp: &ServiceProviderIdentity, idp_entity_id: &str, name_id: &str) -> ResponseSpec {
        let now = SystemTime::now();
        ResponseSpec {
            response_id: random_id(),
            destination: Some(sp.acs_url.clone()),
            recipient: sp.acs_url.clone(),
            audience: Some(sp.entity_id.clone()),
            in_response_to: None,
            in_response_to_in_assertion: true,
            issuer: idp_entity_id.to_string(),
            name_id: name_id.to_string(),
            attributes: BTreeMap::new(),
            friendly_names: BTreeMap::new(),
            assertion_id: random_id(),
            session_index: Some(random_id()),
            issue_instant: now,
            not_before: now.checked_sub(Duration::from_secs(30)).unwrap_or(now),
            not_on_or_after: now + Duration::from_secs(300),
            status: "urn:oasis:names:tc:SAML:2.0:status:Success".to_string(),
            signing: Signing::Response,
            legacy_sha1: false,
        }
    }

    /// Adds an attribute.
    pub fn attribute(mut self, name: &str, values: &[&str]) -> ResponseSpec {
        self.attributes.insert(
            name.to_string(),
            values.iter().map(|v| v.to_string()).collect(),
        );
        self
    }
}

/// A test identity provider: a key and a self-signed certificate.
#[derive(Debug)]
pub struct TestIdp {
    entity_id: String,
    key: PKey<Private>,
    certificate: X509,
}

impl TestIdp {
    /// A new RSA-2048 key and a self-signed certificate (CN = "Warden test IdP", a year).
    pub fn generate(entity_id: &str) -> Result<TestIdp, TestIdpError> {
        let key = PKey::from_rsa(Rsa::generate(2048)?)?;
        let mut name = X509Name::builder()?;
        name.append_entry_by_nid(Nid::COMMONNAME, "Warden test IdP")?;
        name.append_entry_by_nid(Nid::ORGANIZATIONNAME, "Warden tests")?;
        let name = name.build();
        let mut serial = BigNum::new()?;
        serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
        let mut builder = X509::builder()?;
        builder.set_version(2)?;
        let serial = serial.to_asn1_integer()?;
        let not_before = Asn1Time::days_from_now(0)?;
        let not_after = Asn1Time::days_from_now(365)?;
        builder.set_serial_number(&serial)?;
        builder.set_subject_name(&name)?;
        builder.set_issuer_name(&name)?;
        builder.set_pubkey(&key)?;
        builder.set_not_before(&not_before)?;
        builder.set_not_after(&not_after)?;
        builder.sign(&key, MessageDigest::sha256())?;
        Ok(TestIdp {
            entity_id: entity_id.to_string(),
            key,
            certificate: builder.build(),
        })
    }

    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// The certificate, base64 DER on one line.
    pub fn certificate_base64(&self) -> Result<String, TestIdpError> {
        Ok(STANDARD.encode(self.certificate.to_der()?))
    }

    /// The certificate, PEM.
    pub fn certificate_pem(&self) -> Result<String, TestIdpError> {
        String::from_utf8(self.certificate.to_pem()?)
            .map_err(|_| TestIdpError("PEM is not UTF-8".to_string()))
    }

    /// Settings as an administrator would configure them.
    pub fn settings(&self, sso_url: &str) -> Result<IdpSettings, TestIdpError> {
        IdpSettings::new(&self.entity_id, sso_url, &[self.certificate_base64()?])
            .map_err(|e| TestIdpError(e.to_string()))
    }

    /// Okta-style metadata: one signing KeyDescriptor (certificate wrapped at 64 columns),
    /// HTTP-POST and HTTP-Redirect SingleSignOnService at `sso_url`.
    pub fn metadata_xml(&self, sso_url: &str) -> Result<String, TestIdpError> {
        self.metadata_with_key_use(sso_url, "signing")
    }

    /// The same metadata whose only KeyDescriptor is for encryption: no signing key.
    pub fn metadata_xml_without_signing_key(&self, sso_url: &str) -> Result<String, TestIdpError> {
        self.metadata_with_key_use(sso_url, "encryption")
    }

    fn metadata_with_key_use(&self, sso_url: &str, key_use: &str) -> Result<String, TestIdpError> {
        let certificate = wrap64(&self.certificate_base64()?);
        Ok(format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="{key_use}">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data>
          <ds:X509Certificate>{certificate}</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{sso}"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{sso}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"#,
            entity_id = escape(&self.entity_id),
            sso = escape(sso_url),
        ))
    }

    /// A response as `spec` says, base64 (the `SAMLResponse` form value).
    pub fn response(&self, spec: &ResponseSpec) -> Result<String, TestIdpError> {
        let xml = self.response_xml(spec)?;
        Ok(STANDARD.encode(xml))
    }

    /// The response XML as `spec` says (signed as `spec.signing` says).
    pub fn response_xml(&self, spec: &ResponseSpec) -> Result<String, TestIdpError> {
        let sign_assertion = matches!(spec.signing, Signing::Assertion | Signing::Both);
        let sign_response = matches!(spec.signing, Signing::Response | Signing::Both);
        let assertion = self.assertion(spec, &spec.assertion_id, &spec.name_id, sign_assertion)?;
        self.wrap_in_response(spec, &assertion, sign_response)
    }

    /// A Response (signed) holding two assertions for the same subject.
    pub fn response_with_two_assertions(
        &self,
        spec: &ResponseSpec,
    ) -> Result<String, TestIdpError> {
        let first = self.assertion(spec, &spec.assertion_id, &spec.name_id, false)?;
        let second = self.assertion(spec, &random_id(), &spec.name_id, false)?;
        let xml = self.wrap_in_response(spec, &format!("{first}{second}"), true)?;
        Ok(STANDARD.encode(xml))
    }

    /// A Response (signed) holding an EncryptedAssertion (opaque bytes, not decryptable).
    pub fn response_with_encrypted_assertion(
        &self,
        spec: &ResponseSpec,
    ) -> Result<String, TestIdpError> {
        let encrypted = format!(
            r#"<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element"><xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/><xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></saml:EncryptedAssertion>"#,
            STANDARD.encode(random_bytes(64)?)
        );
        let xml = self.wrap_in_response(spec, &encrypted, true)?;
        Ok(STANDARD.encode(xml))
    }

    /// Signature wrapping: an unsigned Response holding a validly signed assertion as
    /// `signed` says and an unsigned one as `attacker` says (another subject, another ID),
    /// in the given order.
    pub fn signature_wrapping(
        &self,
        signed: &ResponseSpec,
        attacker: &ResponseSpec,
        order: WrapOrder,
    ) -> Result<String, TestIdpError> {
        let genuine = self.assertion(signed, &signed.assertion_id, &signed.name_id, true)?;
        let forged = self.assertion(attacker, &attacker.assertion_id, &attacker.name_id, false)?;
        let inner = match order {
            WrapOrder::SignedFirst => format!("{genuine}{forged}"),
            WrapOrder::AttackerFirst => format!("{forged}{genuine}"),
        };
        let xml = self.wrap_in_response(signed, &inner, false)?;
        Ok(STANDARD.encode(xml))
    }

    fn assertion(
        &self,
        spec: &ResponseSpec,
        id: &str,
        name_id: &str,
        signed: bool,
    ) -> Result<String, TestIdpError> {
        let instant = timestamp(spec.issue_instant);
        let not_on_or_after = timestamp(spec.not_on_or_after);
        let in_response_to = spec
            .in_response_to
            .as_deref()
            .filter(|_| spec.in_response_to_in_assertion)
            .map(|id| format!(r#" InResponseTo="{}""#, escape(id)))
            .unwrap_or_default();
        let audience = spec
            .audience
            .as_deref()
            .map(|a| {
                format!(
                    "<saml:AudienceRestriction><saml:Audience>{}</saml:Audience></saml:AudienceRestriction>",
                    escape(a)
                )
            })
            .unwrap_or_default();
        let session_index = spec
            .session_index
            .as_deref()
            .map(|s| format!(r#" SessionIndex="{}""#, escape(s)))
            .unwrap_or_default();
        let mut attributes = String::new();
        for (name, values) in &spec.attributes {
            let friendly = spec
                .friendly_names
                .get(name)
                .map(|f| format!(r#" FriendlyName="{}""#, escape(f)))
                .unwrap_or_default();
            attributes.push_str(&format!(
                r#"<saml:Attribute Name="{}"{friendly} NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">"#,
                escape(name)
            ));
            for value in values {
                attributes.push_str(&format!(
                    r#"<saml:AttributeValue xsi:type="xs:string">{}</saml:AttributeValue>"#,
                    escape(value)
                ));
            }
            attributes.push_str("</saml:Attribute>");
        }
        let attribute_statement = if attributes.is_empty() {
            String::new()
        } else {
            format!("<saml:AttributeStatement>{attributes}</saml:AttributeStatement>")
        };
        let signature = if signed {
            signature_template(id, spec.legacy_sha1, &self.certificate_base64()?)
        } else {
            String::new()
        };
        let xml = format!(
            r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{id}" IssueInstant="{instant}" Version="2.0"><saml:Issuer>{issuer}</saml:Issuer>{signature}<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">{name_id}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData{in_response_to} NotOnOrAfter="{not_on_or_after}" Recipient="{recipient}"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="{not_before}" NotOnOrAfter="{not_on_or_after}">{audience}</saml:Conditions><saml:AuthnStatement AuthnInstant="{instant}"{session_index}><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>{attribute_statement}</saml:Assertion>"#,
            id = escape(id),
            issuer = escape(&spec.issuer),
            name_id = escape(name_id),
            recipient = escape(&spec.recipient),
            not_before = timestamp(spec.not_before),
        );
        if signed {
            self.sign(&xml)
        } else {
            Ok(xml)
        }
    }

    fn wrap_in_response(
        &self,
        spec: &ResponseSpec,
        inner: &str,
        signed: bool,
    ) -> Result<String, TestIdpError> {
        let in_response_to = spec
            .in_response_to
            .as_deref()
            .map(|id| format!(r#" InResponseTo="{}""#, escape(id)))
            .unwrap_or_default();
        let destination = spec
            .destination
            .as_deref()
            .map(|d| format!(r#" Destination="{}""#, escape(d)))
            .unwrap_or_default();
        let signature = if signed {
            signature_template(
                &spec.response_id,
                spec.legacy_sha1,
                &self.certificate_base64()?,
            )
        } else {
            String::new()
        };
        let xml = format!(
            r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}"{in_response_to} IssueInstant="{instant}" Version="2.0"{destination}><saml:Issuer>{issuer}</saml:Issuer>{signature}<samlp:Status><samlp:StatusCode Value="{status}"/></samlp:Status>{inner}</samlp:Response>"#,
            id = escape(&spec.response_id),
            instant = timestamp(spec.issue_instant),
            issuer = escape(&spec.issuer),
            status = escape(&spec.status),
        );
        if signed {
            self.sign(&xml)
        } else {
            Ok(xml)
        }
    }

    /// Signs the first `ds:Signature` template in `xml` (xmlsec, via samael).
    fn sign(&self, xml: &str) -> Result<String, TestIdpError> {
        let key_der = self.key.private_key_to_der()?;
        let signed = Crypto::sign_xml(xml, &key_der)?;
        Ok(without_declaration(&signed))
    }
}

/// Replaces every `from` in a (signed) response with `to`, after signing. Fails if `from`
/// does not occur, so that a test cannot pass by tampering with nothing.
pub fn tamper(signed_base64: &str, from: &str, to: &str) -> Result<String, TestIdpError> {
    let xml = decode(signed_base64)?;
    if !xml.contains(from) {
        return Err(TestIdpError(format!(
            "{from:?} does not occur in the response"
        )));
    }
    Ok(STANDARD.encode(xml.replace(from, to)))
}

/// The XML of a base64 response.
pub fn decode(response_base64: &str) -> Result<String, TestIdpError> {
    let bytes = STANDARD
        .decode(response_base64)
        .map_err(|_| TestIdpError("not base64".to_string()))?;
    String::from_utf8(bytes).map_err(|_| TestIdpError("not UTF-8".to_string()))
}

/// An XML ID: `_` and 32 hex digits.
pub fn random_id() -> String {
    let bytes = random_bytes(16).unwrap_or_else(|_| {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        nanos.to_be_bytes().to_vec()
    });
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("_{hex}")
}

fn random_bytes(n: usize) -> Result<Vec<u8>, TestIdpError> {
    let mut bytes = vec![0u8; n];
    openssl::rand::rand_bytes(&mut bytes)?;
    Ok(bytes)
}

fn timestamp(at: SystemTime) -> String {
    DateTime::<Utc>::from(at).to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn wrap64(text: &str) -> String {
    let lines: Vec<String> = text
        .as_bytes()
        .chunks(64)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect();
    format!("\n{}\n", lines.join("\n"))
}

fn without_declaration(xml: &str) -> String {
    let xml = xml.trim();
    match xml.strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .map(|(_, body)| body.trim().to_string())
            .unwrap_or_default(),
        None => xml.to_string(),
    }
}

/// An enveloped signature template for the element with ID `reference_id`, with the
/// signer's certificate in KeyInfo as IdPs send it (Warden must ignore it and use its own).
fn signature_template(reference_id: &str, legacy_sha1: bool, certificate: &str) -> String {
    let (signature_method, digest_method) = if legacy_sha1 {
        (
            "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
            "http://www.w3.org/2000/09/xmldsig#sha1",
        )
    } else {
        (
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "http://www.w3.org/2001/04/xmlenc#sha256",
        )
    };
    format!(
        r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="{signature_method}"/><ds:Reference URI="#{reference}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="{digest_method}"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"##,
        reference = escape(reference_id),
    )
}
