//! warden-saml end to end: a test IdP signs, the service provider verifies or refuses, and
//! each refusal is the specific error that says why.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::redundant_clone
)]

use std::io::Read;
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use warden_saml::test_idp::{self, ResponseSpec, Signing, TestIdp, WrapOrder};
use warden_saml::{
    authn_request_redirect, sp_metadata_xml, verify_response, IdpSettings, SamlError,
    ServiceProviderIdentity, VerifiedAssertion, VerifyOptions, MAX_RESPONSE_BASE64,
};

const IDP_ENTITY: &str = "https://idp.example.test/saml/metadata";
const SSO_URL: &str = "https://idp.example.test/saml/sso";
const USER: &str = "ada@example.test";
const ATTACKER: &str = "mallory@example.test";

struct World {
    idp: TestIdp,
    settings: IdpSettings,
    sp: ServiceProviderIdentity,
}

fn world() -> World {
    let idp = TestIdp::generate(IDP_ENTITY).unwrap();
    let settings = IdpSettings::from_metadata_xml(&idp.metadata_xml(SSO_URL).unwrap()).unwrap();
    let sp = ServiceProviderIdentity::for_organization("https://warden.example.test/", "org-42")
        .unwrap();
    World { idp, settings, sp }
}

impl World {
    fn spec(&self) -> ResponseSpec {
        ResponseSpec::new(&self.sp, IDP_ENTITY, USER)
            .attribute("email", &[USER])
            .attribute("groups", &["gpu-admins", "ml"])
    }

    fn verify(&self, response: &str) -> Result<VerifiedAssertion, SamlError> {
        verify_response(
            &self.sp,
            &self.settings,
            response,
            &VerifyOptions::default(),
        )
    }

    fn verify_spec(&self, spec: &ResponseSpec) -> Result<VerifiedAssertion, SamlError> {
        self.verify(&self.idp.response(spec).unwrap())
    }
}

fn ago(seconds: u64) -> SystemTime {
    SystemTime::now() - Duration::from_secs(seconds)
}

fn ahead(seconds: u64) -> SystemTime {
    SystemTime::now() + Duration::from_secs(seconds)
}

// --- Accepted -------------------------------------------------------------------------------

#[test]
fn accepts_a_response_signed_on_the_response() {
    let w = world();
    let spec = ResponseSpec {
        signing: Signing::Response,
        ..w.spec()
    };
    let verified = w.verify_spec(&spec).unwrap();
    assert_eq!(verified.name_id.as_deref(), Some(USER));
    assert_eq!(verified.assertion_id, spec.assertion_id);
}

#[test]
fn accepts_a_response_signed_on_the_assertion() {
    let w = world();
    let spec = ResponseSpec {
        signing: Signing::Assertion,
        ..w.spec()
    };
    let verified = w.verify_spec(&spec).unwrap();
    assert_eq!(verified.name_id.as_deref(), Some(USER));
    assert_eq!(verified.assertion_id, spec.assertion_id);
}

#[test]
fn accepts_a_response_signed_on_both() {
    let w = world();
    let spec = ResponseSpec {
        signing: Signing::Both,
        ..w.spec()
    };
    let xml = test_idp::decode(&w.idp.response(&spec).unwrap()).unwrap();
    assert_eq!(xml.matches("<ds:Signature xmlns").count(), 2, "{xml}");
    let verified = w.verify_spec(&spec).unwrap();
    assert_eq!(verified.name_id.as_deref(), Some(USER));
}

#[test]
fn returns_what_the_assertion_says() {
    let w = world();
    let mut spec = w.spec();
    spec.friendly_names.insert(
        "urn:oid:0.9.2342.19200300.100.1.3".to_string(),
        "mail".to_string(),
    );
    spec.attributes.insert(
        "urn:oid:0.9.2342.19200300.100.1.3".to_string(),
        vec![USER.to_string()],
    );
    let verified = w.verify_spec(&spec).unwrap();
    assert_eq!(verified.issuer, IDP_ENTITY);
    assert_eq!(verified.assertion_id, spec.assertion_id);
    assert_eq!(verified.session_index, spec.session_index);
    assert_eq!(
        verified.name_id_format.as_deref(),
        Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
    );
    assert_eq!(
        verified.attributes.get("groups"),
        Some(&vec!["gpu-admins".to_string(), "ml".to_string()])
    );
    // Name lookup is case-insensitive; FriendlyName indexes too.
    assert_eq!(verified.attribute("EMAIL"), Some(USER));
    assert_eq!(verified.attribute("mail"), Some(USER));
    assert_eq!(
        verified.attribute("urn:oid:0.9.2342.19200300.100.1.3"),
        Some(USER)
    );
    assert_eq!(verified.attribute("groups"), Some("gpu-admins"));
    assert_eq!(verified.attribute("missing"), None);
    // IdP-initiated: nothing to match.
    assert_eq!(verified.in_response_to, None);
    // The replay cache's horizon is the assertion's NotOnOrAfter (written to the ms).
    let horizon = verified.not_on_or_after.unwrap();
    let expected = spec.not_on_or_after;
    let gap = horizon
        .duration_since(expected)
        .unwrap_or_else(|e| e.duration());
    assert!(gap < Duration::from_millis(1), "{gap:?}");
}

#[test]
fn returns_in_response_to_for_an_sp_initiated_sign_in() {
    let w = world();
    for signing in [Signing::Response, Signing::Assertion, Signing::Both] {
        let spec = ResponseSpec {
            in_response_to: Some("_req-7f3a".to_string()),
            signing,
            ..w.spec()
        };
        let verified = w.verify_spec(&spec).unwrap();
        assert_eq!(
            verified.in_response_to.as_deref(),
            Some("_req-7f3a"),
            "{signing:?}"
        );
    }
}

#[test]
fn takes_in_response_to_from_the_response_only_when_the_response_is_signed() {
    let w = world();
    let only_on_response = |signing| ResponseSpec {
        in_response_to: Some("_req-9".to_string()),
        in_response_to_in_assertion: false,
        signing,
        ..w.spec()
    };
    // Read from the verified (signed) Response.
    for signing in [Signing::Response, Signing::Both] {
        let verified = w.verify_spec(&only_on_response(signing)).unwrap();
        assert_eq!(
            verified.in_response_to.as_deref(),
            Some("_req-9"),
            "{signing:?}"
        );
    }
    // An unsigned Response's word is not taken: an IdP-initiated assertion stays one.
    let verified = w
        .verify_spec(&only_on_response(Signing::Assertion))
        .unwrap();
    assert_eq!(verified.in_response_to, None);
}

#[test]
fn refuses_a_response_in_response_to_that_contradicts_the_signed_assertion() {
    let w = world();
    let spec = ResponseSpec {
        in_response_to: Some("_req-1".to_string()),
        signing: Signing::Assertion,
        ..w.spec()
    };
    let response = w.idp.response(&spec).unwrap();
    // Only the Response's attribute (the unsigned wrapper) is changed: the assertion's
    // signature still verifies.
    let tampered = test_idp::tamper(
        &response,
        r#"InResponseTo="_req-1" IssueInstant"#,
        r#"InResponseTo="_req-2" IssueInstant"#,
    )
    .unwrap();
    assert_eq!(w.verify(&tampered), Err(SamlError::InResponseToMismatch));
}

#[test]
fn accepts_times_within_the_clock_skew() {
    let w = world();
    // Expired 20 s ago, valid from 20 s ahead: both inside the default 60 s skew.
    let expired_recently = ResponseSpec {
        issue_instant: ago(30),
        not_before: ago(40),
        not_on_or_after: ago(20),
        ..w.spec()
    };
    w.verify_spec(&expired_recently).unwrap();
    let starts_soon = ResponseSpec {
        not_before: ahead(20),
        ..w.spec()
    };
    w.verify_spec(&starts_soon).unwrap();
}

#[test]
fn accepts_base64_wrapped_at_76_columns() {
    let w = world();
    let response = w.idp.response(&w.spec()).unwrap();
    let wrapped: Vec<String> = response
        .as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    w.verify(&wrapped.join("\r\n")).unwrap();
}

// --- Refused: signatures --------------------------------------------------------------------

#[test]
fn refuses_an_unsigned_response() {
    let w = world();
    let spec = ResponseSpec {
        signing: Signing::None,
        ..w.spec()
    };
    assert_eq!(w.verify_spec(&spec), Err(SamlError::NotSigned));
}

#[test]
fn refuses_a_response_signed_by_another_key() {
    let w = world();
    // The attacker's own IdP, same entity ID, its certificate in the signature's KeyInfo.
    let attacker = TestIdp::generate(IDP_ENTITY).unwrap();
    for signing in [Signing::Response, Signing::Assertion, Signing::Both] {
        let spec = ResponseSpec {
            signing,
            ..w.spec()
        };
        let response = attacker.response(&spec).unwrap();
        assert_eq!(
            w.verify(&response),
            Err(SamlError::SignatureInvalid),
            "{signing:?}"
        );
    }
}

#[test]
fn refuses_a_response_altered_after_signing() {
    let w = world();
    for signing in [Signing::Response, Signing::Assertion, Signing::Both] {
        let spec = ResponseSpec {
            signing,
            ..w.spec()
        };
        let response = w.idp.response(&spec).unwrap();
        let tampered = test_idp::tamper(&response, USER, ATTACKER).unwrap();
        let result = w.verify(&tampered);
        assert_eq!(result, Err(SamlError::SignatureInvalid), "{signing:?}");
    }
}

#[test]
fn refuses_sha1_signatures() {
    let w = world();
    let spec = ResponseSpec {
        legacy_sha1: true,
        ..w.spec()
    };
    assert_eq!(w.verify_spec(&spec), Err(SamlError::SignatureInvalid));
}

#[test]
fn refuses_signature_wrapping_and_never_returns_the_attackers_identity() {
    let w = world();
    let genuine = w.spec();
    let forged = ResponseSpec::new(&w.sp, IDP_ENTITY, ATTACKER).attribute("email", &[ATTACKER]);
    for order in [WrapOrder::SignedFirst, WrapOrder::AttackerFirst] {
        let response = w.idp.signature_wrapping(&genuine, &forged, order).unwrap();
        let xml = test_idp::decode(&response).unwrap();
        assert!(xml.contains(ATTACKER) && xml.contains(USER), "{order:?}");
        // Warden refuses outright: exactly one assertion or nothing.
        let result = w.verify(&response);
        assert_eq!(result, Err(SamlError::MultipleAssertions), "{order:?}");
        assert!(!format!("{result:?}").contains(ATTACKER));
    }
}

// --- Refused: addressing --------------------------------------------------------------------

#[test]
fn refuses_the_wrong_audience() {
    let w = world();
    let spec = ResponseSpec {
        audience: Some("https://other-sp.example.test/saml".to_string()),
        ..w.spec()
    };
    assert_eq!(
        w.verify_spec(&spec),
        Err(SamlError::WrongAudience {
            expected: w.sp.entity_id.clone()
        })
    );
    // No AudienceRestriction at all (samael alone would accept it).
    let spec = ResponseSpec {
        audience: None,
        ..w.spec()
    };
    assert_eq!(
        w.verify_spec(&spec),
        Err(SamlError::WrongAudience {
            expected: w.sp.entity_id.clone()
        })
    );
}

#[test]
fn refuses_the_wrong_recipient() {
    let w = world();
    let spec = ResponseSpec {
        recipient: "https://warden.example.test/saml/org-43/acs".to_string(),
        ..w.spec()
    };
    assert_eq!(
        w.verify_spec(&spec),
        Err(SamlError::WrongRecipient {
            expected: w.sp.acs_url.clone(),
            found: Some("https://warden.example.test/saml/org-43/acs".to_string()),
        })
    );
}

#[test]
fn refuses_the_wrong_destination() {
    let w = world();
    for signing in [Signing::Response, Signing::Assertion] {
        let spec = ResponseSpec {
            destination: Some("https://warden.example.test/saml/org-43/acs".to_string()),
            signing,
            ..w.spec()
        };
        assert_eq!(
            w.verify_spec(&spec),
            Err(SamlError::WrongDestination {
                expected: w.sp.acs_url.clone(),
                found: Some("https://warden.example.test/saml/org-43/acs".to_string()),
            }),
            "{signing:?}"
        );
    }
}

#[test]
fn refuses_the_wrong_issuer() {
    let w = world();
    let spec = ResponseSpec {
        issuer: "https://evil.example.test/metadata".to_string(),
        ..w.spec()
    };
    assert_eq!(
        w.verify_spec(&spec),
        Err(SamlError::WrongIssuer {
            expected: IDP_ENTITY.to_string(),
            found: Some("https://evil.example.test/metadata".to_string()),
        })
    );
    // The assertion's Issuer alone (the Response's is left right): samael's check.
    let spec = ResponseSpec {
        issuer: "https://evil.example.test/metadata".to_string(),
        signing: Signing::Assertion,
        ..w.spec()
    };
    let response = w.idp.response(&spec).unwrap();
    let xml = test_idp::decode(&response).unwrap();
    let fixed_response_issuer = xml.replacen(
        "<saml:Issuer>https://evil.example.test/metadata</saml:Issuer>",
        &format!("<saml:Issuer>{IDP_ENTITY}</saml:Issuer>"),
        1,
    );
    assert_ne!(fixed_response_issuer, xml);
    assert_eq!(
        w.verify(&STANDARD.encode(fixed_response_issuer)),
        Err(SamlError::WrongIssuer {
            expected: IDP_ENTITY.to_string(),
            found: Some("https://evil.example.test/metadata".to_string()),
        })
    );
}

// --- Refused: time --------------------------------------------------------------------------

#[test]
fn refuses_an_expired_assertion() {
    let w = world();
    let spec = ResponseSpec {
        issue_instant: ago(30),
        not_before: ago(200),
        not_on_or_after: ago(120),
        ..w.spec()
    };
    assert_eq!(w.verify_spec(&spec), Err(SamlError::Expired));
}

#[test]
fn refuses_an_assertion_not_yet_valid() {
    let w = world();
    let spec = ResponseSpec {
        not_before: ahead(300),
        not_on_or_after: ahead(600),
        ..w.spec()
    };
    assert_eq!(w.verify_spec(&spec), Err(SamlError::NotYetValid));
    // An IssueInstant in the future beyond the skew, too.
    let spec = ResponseSpec {
        issue_instant: ahead(600),
        not_on_or_after: ahead(900),
        ..w.spec()
    };
    assert_eq!(w.verify_spec(&spec), Err(SamlError::NotYetValid));
}

#[test]
fn refuses_a_response_issued_too_long_ago() {
    let w = world();
    let spec = ResponseSpec {
        issue_instant: ago(600),
        not_before: ago(600),
        not_on_or_after: ahead(600),
        ..w.spec()
    };
    assert_eq!(w.verify_spec(&spec), Err(SamlError::TooOld));
    // Accepted with a longer max_age: the option is what decides.
    let options = VerifyOptions {
        max_age: Duration::from_secs(900),
        ..VerifyOptions::default()
    };
    let response = w.idp.response(&spec).unwrap();
    verify_response(&w.sp, &w.settings, &response, &options).unwrap();
}

#[test]
fn the_clock_skew_option_is_applied() {
    let w = world();
    let spec = ResponseSpec {
        issue_instant: ago(30),
        not_before: ago(60),
        not_on_or_after: ago(20),
        ..w.spec()
    };
    let response = w.idp.response(&spec).unwrap();
    let strict = VerifyOptions {
        clock_skew: Duration::from_secs(5),
        ..VerifyOptions::default()
    };
    assert_eq!(
        verify_response(&w.sp, &w.settings, &response, &strict),
        Err(SamlError::Expired)
    );
    verify_response(&w.sp, &w.settings, &response, &VerifyOptions::default()).unwrap();
}

// --- Refused: shape -------------------------------------------------------------------------

#[test]
fn refuses_more_than_one_assertion() {
    let w = world();
    let response = w.idp.response_with_two_assertions(&w.spec()).unwrap();
    assert_eq!(w.verify(&response), Err(SamlError::MultipleAssertions));
}

#[test]
fn refuses_an_encrypted_assertion() {
    let w = world();
    let response = w.idp.response_with_encrypted_assertion(&w.spec()).unwrap();
    let error = w.verify(&response).unwrap_err();
    assert_eq!(error, SamlError::EncryptedAssertionUnsupported);
    assert!(error
        .to_string()
        .contains("encrypted assertions are not supported"));
}

#[test]
fn refuses_an_error_status_and_says_which() {
    let w = world();
    let spec = ResponseSpec {
        status: "urn:oasis:names:tc:SAML:2.0:status:Responder".to_string(),
        signing: Signing::None,
        ..w.spec()
    };
    assert_eq!(
        w.verify_spec(&spec),
        Err(SamlError::StatusNotSuccess {
            status: "urn:oasis:names:tc:SAML:2.0:status:Responder".to_string(),
            sub_status: None,
            message: None,
        })
    );
}

#[test]
fn refuses_bad_base64_and_bad_xml() {
    let w = world();
    let malformed = |result: Result<VerifiedAssertion, SamlError>| {
        matches!(result, Err(SamlError::Malformed { .. }))
    };
    assert!(malformed(w.verify("not base64 at all!")));
    assert!(malformed(w.verify(&STANDARD.encode([0xff, 0xfe, 0x00]))));
    assert!(malformed(w.verify(&STANDARD.encode("<samlp:Response"))));
    assert!(malformed(
        w.verify(&STANDARD.encode("<html><body>hi</body></html>"))
    ));
    assert!(malformed(w.verify(&STANDARD.encode(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"></samlp:Other>"#
    ))));
    // A DTD (entity expansion) is refused before any XML library expands it.
    let doctype = test_idp::decode(&w.idp.response(&w.spec()).unwrap())
        .unwrap()
        .replacen(
            "<samlp:Response",
            "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\">]><samlp:Response",
            1,
        );
    assert!(malformed(w.verify(&STANDARD.encode(doctype))));
}

#[test]
fn refuses_a_response_over_256_kib_before_decoding() {
    let w = world();
    let huge = "A".repeat(MAX_RESPONSE_BASE64 + 1);
    assert_eq!(
        w.verify(&huge),
        Err(SamlError::TooLarge {
            what: "SAMLResponse",
            size: MAX_RESPONSE_BASE64 + 1,
            limit: MAX_RESPONSE_BASE64,
        })
    );
}

// --- The guard: no signing certificate ------------------------------------------------------

#[test]
fn metadata_without_a_signing_certificate_is_refused() {
    let w = world();
    let metadata = w.idp.metadata_xml_without_signing_key(SSO_URL).unwrap();
    assert!(metadata.contains(r#"use="encryption""#));
    assert_eq!(
        IdpSettings::from_metadata_xml(&metadata),
        Err(SamlError::NoSigningCertificate)
    );
    let no_key_descriptor = w
        .idp
        .metadata_xml(SSO_URL)
        .unwrap()
        .split("<md:KeyDescriptor")
        .next()
        .unwrap()
        .to_string()
        + r#"<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.test/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#;
    assert_eq!(
        IdpSettings::from_metadata_xml(&no_key_descriptor),
        Err(SamlError::NoSigningCertificate)
    );
    let none: [&str; 0] = [];
    assert_eq!(
        IdpSettings::new(IDP_ENTITY, SSO_URL, &none),
        Err(SamlError::NoSigningCertificate)
    );
}

#[test]
fn verify_refuses_settings_without_certificates() {
    let w = world();
    let empty = IdpSettings {
        certificates: Vec::new(),
        ..w.settings.clone()
    };
    // The dangerous case: samael without certificates would accept an unsigned response.
    let unsigned = w
        .idp
        .response(&ResponseSpec {
            signing: Signing::None,
            ..w.spec()
        })
        .unwrap();
    let signed = w.idp.response(&w.spec()).unwrap();
    for response in [unsigned, signed] {
        assert_eq!(
            verify_response(&w.sp, &empty, &response, &VerifyOptions::default()),
            Err(SamlError::NoSigningCertificate)
        );
    }
    assert_eq!(empty.validate(), Err(SamlError::NoSigningCertificate));
}

#[test]
fn verify_refuses_settings_with_a_broken_certificate() {
    let w = world();
    let broken = IdpSettings {
        certificates: vec!["bm90IGEgY2VydGlmaWNhdGU=".to_string()],
        ..w.settings.clone()
    };
    let response = w.idp.response(&w.spec()).unwrap();
    assert!(matches!(
        verify_response(&w.sp, &broken, &response, &VerifyOptions::default()),
        Err(SamlError::InvalidCertificate { index: 0, .. })
    ));
}

// --- IdP settings ---------------------------------------------------------------------------

#[test]
fn settings_from_the_test_idps_metadata() {
    let w = world();
    assert_eq!(w.settings.entity_id, IDP_ENTITY);
    // HTTP-Redirect is preferred over HTTP-POST.
    assert_eq!(w.settings.sso_url, SSO_URL);
    assert_eq!(
        w.settings.certificates,
        vec![w.idp.certificate_base64().unwrap()]
    );
    // Plain data: stored as JSON and read back unchanged.
    let json = serde_json::to_string(&w.settings).unwrap();
    assert_eq!(
        serde_json::from_str::<IdpSettings>(&json).unwrap(),
        w.settings
    );
}

/// A certificate as Okta and Entra print it: base64 wrapped at 64 columns.
fn wrapped(certificate: &str) -> String {
    certificate
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn settings_from_okta_style_metadata() {
    let idp = TestIdp::generate("http://www.okta.com/exk1fcia6d6EMsf331d8").unwrap();
    let certificate = idp.certificate_base64().unwrap();
    let metadata = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><md:EntityDescriptor entityID="http://www.okta.com/exk1fcia6d6EMsf331d8" xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"><md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat><md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://dev-123456.okta.com/app/dev-123456_warden_1/exk1fcia6d6EMsf331d8/sso/saml"/><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://dev-123456.okta.com/app/dev-123456_warden_1/exk1fcia6d6EMsf331d8/sso/saml?binding=redirect"/></md:IDPSSODescriptor></md:EntityDescriptor>"#,
        wrapped(&certificate)
    );
    let settings = IdpSettings::from_metadata_xml(&metadata).unwrap();
    assert_eq!(
        settings,
        IdpSettings {
            entity_id: "http://www.okta.com/exk1fcia6d6EMsf331d8".to_string(),
            sso_url: "https://dev-123456.okta.com/app/dev-123456_warden_1/exk1fcia6d6EMsf331d8/sso/saml?binding=redirect".to_string(),
            certificates: vec![certificate],
        }
    );
}

#[test]
fn settings_from_entra_style_metadata() {
    let tenant = "5f1c2a9e-3b7d-4c2e-9a41-0e6b7c8d9f10";
    let idp = TestIdp::generate(&format!("https://sts.windows.net/{tenant}/")).unwrap();
    let current = idp.certificate_base64().unwrap();
    let next = TestIdp::generate("rollover")
        .unwrap()
        .certificate_base64()
        .unwrap();
    let ws_fed_only = TestIdp::generate("wsfed")
        .unwrap()
        .certificate_base64()
        .unwrap();
    // Default namespaces, a signature over the document, WS-Federation RoleDescriptors with
    // their own keys (ignored), an IDPSSODescriptor with two signing certificates (the
    // current one and the next, during rollover), SingleLogoutService, and both bindings on
    // the same URL.
    let metadata = format!(
        r##"<?xml version="1.0" encoding="utf-8"?><EntityDescriptor ID="_e2a7c3f1-9d0b-4b6e-8f2a-1c3d5e7f9a0b" entityID="https://sts.windows.net/{tenant}/" xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#" /><SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" /><Reference URI="#_e2a7c3f1-9d0b-4b6e-8f2a-1c3d5e7f9a0b"><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature" /><Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#" /></Transforms><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256" /><DigestValue>q2Jm1sV0Yp2m9Q7yR0xkqk3Y6bC8uPz3M0m5C1d2E3o=</DigestValue></Reference></SignedInfo><SignatureValue>AAAA</SignatureValue><KeyInfo><X509Data><X509Certificate>{current}</X509Certificate></X509Data></KeyInfo></Signature><RoleDescriptor xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706"><KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{ws_fed_only}</X509Certificate></X509Data></KeyInfo></KeyDescriptor><fed:ClaimTypesOffered><auth:ClaimType Uri="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name" xmlns:auth="http://docs.oasis-open.org/wsfed/authorization/200706"><auth:DisplayName>Name</auth:DisplayName></auth:ClaimType></fed:ClaimTypesOffered><fed:PassiveRequestorEndpoint><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>https://login.microsoftonline.com/{tenant}/wsfed</wsa:Address></wsa:EndpointReference></fed:PassiveRequestorEndpoint></RoleDescriptor><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{current_wrapped}</X509Certificate></X509Data></KeyInfo></KeyDescriptor><KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{next}</X509Certificate></X509Data></KeyInfo></KeyDescriptor><SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://login.microsoftonline.com/{tenant}/saml2" /><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://login.microsoftonline.com/{tenant}/saml2" /><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://login.microsoftonline.com/{tenant}/saml2" /></IDPSSODescriptor></EntityDescriptor>"##,
        current_wrapped = wrapped(&current),
    );
    let settings = IdpSettings::from_metadata_xml(&metadata).unwrap();
    assert_eq!(
        settings.entity_id,
        format!("https://sts.windows.net/{tenant}/")
    );
    assert_eq!(
        settings.sso_url,
        format!("https://login.microsoftonline.com/{tenant}/saml2")
    );
    assert_eq!(settings.certificates, vec![current.clone(), next]);
    assert!(!settings.certificates.contains(&ws_fed_only));

    // And a response from that IdP verifies against those settings.
    let sp =
        ServiceProviderIdentity::for_organization("https://warden.example.test", "org-9").unwrap();
    let spec = ResponseSpec::new(&sp, &settings.entity_id, USER);
    let response = idp.response(&spec).unwrap();
    let verified = verify_response(&sp, &settings, &response, &VerifyOptions::default()).unwrap();
    assert_eq!(verified.name_id.as_deref(), Some(USER));
}

#[test]
fn settings_from_an_entities_descriptor_with_one_idp() {
    let w = world();
    let inner = w.idp.metadata_xml(SSO_URL).unwrap();
    let inner = inner.trim_start_matches(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let metadata = format!(
        r#"<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" Name="urn:keycloak">{inner}</md:EntitiesDescriptor>"#
    );
    assert_eq!(
        IdpSettings::from_metadata_xml(&metadata).unwrap(),
        w.settings
    );
}

#[test]
fn metadata_that_is_not_an_idps_is_refused() {
    let sp =
        ServiceProviderIdentity::for_organization("https://warden.example.test", "org-1").unwrap();
    let sp_metadata = sp_metadata_xml(&sp).unwrap();
    assert!(matches!(
        IdpSettings::from_metadata_xml(&sp_metadata),
        Err(SamlError::InvalidMetadata { .. })
    ));
    for junk in [
        "",
        "not xml",
        "<html/>",
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata""#,
        r#"<!DOCTYPE x [<!ENTITY e "e">]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x">&e;</md:EntityDescriptor>"#,
    ] {
        assert!(
            matches!(
                IdpSettings::from_metadata_xml(junk),
                Err(SamlError::InvalidMetadata { .. })
            ),
            "{junk}"
        );
    }
    let huge = " ".repeat(warden_saml::MAX_METADATA_BYTES + 1);
    assert!(matches!(
        IdpSettings::from_metadata_xml(&huge),
        Err(SamlError::TooLarge { .. })
    ));
}

#[test]
fn metadata_with_a_bad_certificate_is_refused() {
    let w = world();
    let metadata = w.idp.metadata_xml(SSO_URL).unwrap();
    let certificate = wrapped(&w.idp.certificate_base64().unwrap());
    let broken = metadata.replace(&certificate, "bm90IGEgY2VydGlmaWNhdGU=");
    assert_ne!(broken, metadata);
    assert!(matches!(
        IdpSettings::from_metadata_xml(&broken),
        Err(SamlError::InvalidCertificate { index: 0, .. })
    ));
}

#[test]
fn settings_typed_in_accept_pem_or_base64_and_name_what_is_wrong() {
    let w = world();
    let pem = w.idp.certificate_pem().unwrap();
    let base64 = w.idp.certificate_base64().unwrap();
    let from_pem = IdpSettings::new(IDP_ENTITY, SSO_URL, std::slice::from_ref(&pem)).unwrap();
    assert_eq!(from_pem, w.settings);
    // Base64 with line breaks, and the same certificate twice: kept once.
    let from_both = IdpSettings::new(IDP_ENTITY, SSO_URL, &[wrapped(&base64), pem]).unwrap();
    assert_eq!(from_both, w.settings);

    assert!(matches!(
        IdpSettings::new(IDP_ENTITY, SSO_URL, &["bm9wZQ=="]),
        Err(SamlError::InvalidCertificate { index: 0, .. })
    ));
    assert!(matches!(
        IdpSettings::new(IDP_ENTITY, SSO_URL, &[base64.as_str(), "%%%"]),
        Err(SamlError::InvalidCertificate { index: 1, .. })
    ));
    let key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";
    let error = IdpSettings::new(IDP_ENTITY, SSO_URL, &[key]).unwrap_err();
    assert!(matches!(
        error,
        SamlError::InvalidCertificate { index: 0, .. }
    ));
    assert!(error.to_string().contains("private key"));
    assert!(!error
        .to_string()
        .contains("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"));

    for (entity, sso, field) in [
        ("  ", SSO_URL, "entity_id"),
        (IDP_ENTITY, "/relative/sso", "sso_url"),
        (IDP_ENTITY, "ftp://idp.example.test/sso", "sso_url"),
        (IDP_ENTITY, "javascript:alert(1)", "sso_url"),
    ] {
        match IdpSettings::new(entity, sso, &[base64.as_str()]) {
            Err(SamlError::InvalidSetting { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{entity:?} {sso:?}: {other:?}"),
        }
    }
}

#[test]
fn certificate_summaries_show_fingerprint_subject_and_expiry() {
    let w = world();
    let summaries = w.settings.certificate_summaries().unwrap();
    assert_eq!(summaries.len(), 1);
    let summary = &summaries[0];
    let der = STANDARD
        .decode(w.idp.certificate_base64().unwrap())
        .unwrap();
    let expected = openssl::sha::sha256(&der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    assert_eq!(summary.sha256_fingerprint, expected);
    assert_eq!(summary.sha256_fingerprint.len(), 32 * 3 - 1);
    assert!(
        summary.subject.contains("CN=Warden test IdP"),
        "{}",
        summary.subject
    );
    let not_after = chrono::DateTime::parse_from_rfc3339(&summary.not_after).unwrap();
    let days = (not_after.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days();
    assert!((363..=365).contains(&days), "{days}");
}

// --- SP side --------------------------------------------------------------------------------

fn query_pairs(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn inflate(saml_request: &str) -> String {
    let deflated = STANDARD.decode(saml_request).unwrap();
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(deflated.as_slice())
        .read_to_string(&mut xml)
        .unwrap();
    xml
}

#[test]
fn authn_request_redirect_carries_the_request() {
    let w = world();
    let now = SystemTime::now();
    let url = authn_request_redirect(&w.sp, &w.settings, "_req-0a1b2c", "st-xyz", now).unwrap();
    assert!(
        url.starts_with("https://idp.example.test/saml/sso?SAMLRequest="),
        "{url}"
    );
    let pairs = query_pairs(&url);
    assert_eq!(pairs.len(), 2, "{pairs:?}");
    assert_eq!(pairs[0].0, "SAMLRequest");
    assert_eq!(pairs[1], ("RelayState".to_string(), "st-xyz".to_string()));
    let xml = inflate(&pairs[0].1);
    let request: samael::schema::AuthnRequest = xml.parse().unwrap();
    assert_eq!(request.id, "_req-0a1b2c");
    assert_eq!(request.version, "2.0");
    assert_eq!(request.destination.as_deref(), Some(SSO_URL));
    assert_eq!(
        request.assertion_consumer_service_url.as_deref(),
        Some(w.sp.acs_url.as_str())
    );
    assert_eq!(
        request.protocol_binding.as_deref(),
        Some("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST")
    );
    assert_eq!(
        request.issuer.and_then(|i| i.value).as_deref(),
        Some(w.sp.entity_id.as_str())
    );
    let issued = SystemTime::from(request.issue_instant);
    let gap = issued.duration_since(now).unwrap_or_else(|e| e.duration());
    assert!(gap < Duration::from_secs(1), "{gap:?}");
}

#[test]
fn authn_request_redirect_keeps_an_existing_query_and_omits_an_empty_relay_state() {
    let w = world();
    let settings = IdpSettings {
        sso_url: "https://idp.example.test/sso?tenant=acme&x=1".to_string(),
        ..w.settings.clone()
    };
    let url = authn_request_redirect(&w.sp, &settings, "_r1", "", SystemTime::now()).unwrap();
    let pairs = query_pairs(&url);
    let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["tenant", "x", "SAMLRequest"]);
    assert_eq!(pairs[0].1, "acme");
    let request: samael::schema::AuthnRequest = inflate(&pairs[2].1).parse().unwrap();
    assert_eq!(request.id, "_r1");
}

#[test]
fn authn_request_redirect_refuses_bad_ids_and_long_relay_state() {
    let w = world();
    let now = SystemTime::now();
    for id in ["", "1abc", "a b", "a\"b", "<x>"] {
        assert!(
            matches!(
                authn_request_redirect(&w.sp, &w.settings, id, "", now),
                Err(SamlError::InvalidSetting {
                    field: "request_id",
                    ..
                })
            ),
            "{id:?}"
        );
    }
    assert!(matches!(
        authn_request_redirect(&w.sp, &w.settings, "_ok", &"r".repeat(81), now),
        Err(SamlError::InvalidSetting {
            field: "relay_state",
            ..
        })
    ));
}

#[test]
fn sp_metadata_names_the_acs_and_entity_and_no_localhost() {
    let w = world();
    let xml = sp_metadata_xml(&w.sp).unwrap();
    // Well-formed XML, and samael reads it back.
    let mut reader = quick_xml::Reader::from_str(&xml);
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Eof => break,
            _ => continue,
        }
    }
    let entity: samael::metadata::EntityDescriptor = xml.parse().unwrap();
    assert_eq!(
        entity.entity_id.as_deref(),
        Some("https://warden.example.test/saml/org-42")
    );
    let descriptor = &entity.sp_sso_descriptors.as_ref().unwrap()[0];
    assert_eq!(descriptor.want_assertions_signed, Some(true));
    let acs = &descriptor.assertion_consumer_services;
    assert_eq!(acs.len(), 1);
    assert_eq!(
        acs[0].location,
        "https://warden.example.test/saml/org-42/acs"
    );
    assert_eq!(
        acs[0].binding,
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    );
    assert!(xml.contains(r#"WantAssertionsSigned="true""#), "{xml}");
    assert!(xml.contains("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"));
    assert!(!xml.contains("localhost"), "{xml}");
    assert!(!xml.contains("SingleLogoutService"), "{xml}");
    assert!(!xml.contains("validUntil"), "{xml}");
}

#[test]
fn sp_identity_for_an_organization() {
    let sp = ServiceProviderIdentity::for_organization("https://warden.example.test/base/", "o1")
        .unwrap();
    assert_eq!(sp.entity_id, "https://warden.example.test/base/saml/o1");
    assert_eq!(sp.acs_url, "https://warden.example.test/base/saml/o1/acs");
    for org in ["", "a/b", "a?b", "a b"] {
        assert!(
            ServiceProviderIdentity::for_organization("https://w.example.test", org).is_err(),
            "{org:?}"
        );
    }
    assert!(ServiceProviderIdentity::for_organization("warden.example.test", "o1").is_err());
}
