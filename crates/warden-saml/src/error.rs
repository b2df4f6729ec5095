//! What can go wrong, said so that the server can tell an administrator WHAT failed.
//!
//! No variant carries a secret. Values quoted from a response (an issuer, a recipient) are
//! the identity provider's own words, clipped to [`QUOTE_LIMIT`] characters.

/// How many characters of a value taken from a document an error quotes at most.
pub const QUOTE_LIMIT: usize = 200;

/// Why a SAML configuration, request or response was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SamlError {
    /// The identity provider's settings (or metadata) have no signing certificate. Warden
    /// never configures SAML, and never verifies a response, without one: samael itself
    /// would silently skip signature verification.
    #[error(
        "the identity provider has no signing certificate: Warden accepts no SAML configuration \
         (and verifies no response) without one; add the IdP's signing certificate"
    )]
    NoSigningCertificate,

    /// A certificate (counted from 0 in the order given) is not an X.509 certificate.
    #[error("certificate {index} is not usable: {reason}")]
    InvalidCertificate { index: usize, reason: String },

    /// The IdP metadata document cannot be used.
    #[error("the identity provider metadata is not usable: {reason}")]
    InvalidMetadata { reason: String },

    /// A setting (entity ID, URL, request ID, relay state, option) is wrong.
    #[error("invalid {field}: {reason}")]
    InvalidSetting { field: &'static str, reason: String },

    /// The input is larger than Warden reads.
    #[error("the {what} is too large ({size} bytes; the limit is {limit})")]
    TooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },

    /// The response is not base64, not UTF-8, not well-formed XML, not a SAML Response, or
    /// lacks something SAML requires.
    #[error("the SAML response is malformed: {reason}")]
    Malformed { reason: String },

    /// The response carries no XML signature at all.
    #[error(
        "the SAML response is not signed: configure the identity provider to sign the response \
         or the assertion"
    )]
    NotSigned,

    /// A signature does not verify with any of the configured certificates (wrong key, altered
    /// after signing, a refused algorithm such as SHA-1, or a signature over something else).
    #[error(
        "the SAML response signature is not valid for the configured certificates (signed by \
         another key, altered after signing, or a refused algorithm)"
    )]
    SignatureInvalid,

    /// The assertion's AudienceRestriction does not name this service provider.
    #[error(
        "the assertion is not meant for this service provider (audience {expected:?} missing)"
    )]
    WrongAudience { expected: String },

    /// The bearer SubjectConfirmationData's Recipient is not this organization's ACS URL.
    #[error(
        "the assertion's Recipient is {found:?}, not this organization's ACS URL {expected:?}"
    )]
    WrongRecipient {
        expected: String,
        found: Option<String>,
    },

    /// The Response's Destination is not this organization's ACS URL.
    #[error(
        "the response's Destination is {found:?}, not this organization's ACS URL {expected:?}"
    )]
    WrongDestination {
        expected: String,
        found: Option<String>,
    },

    /// The Response or the Assertion was issued by another entity than the configured IdP.
    #[error("the response was issued by {found:?}, not by the configured identity provider {expected:?}")]
    WrongIssuer {
        expected: String,
        found: Option<String>,
    },

    /// NotBefore (or the IssueInstant) is in the future, beyond the allowed clock skew.
    #[error(
        "the assertion is not valid yet (check the clocks of Warden and of the identity provider)"
    )]
    NotYetValid,

    /// NotOnOrAfter has passed, beyond the allowed clock skew.
    #[error("the assertion has expired")]
    Expired,

    /// The Response or Assertion was issued longer ago than the allowed maximum age.
    #[error("the response was issued too long ago")]
    TooOld,

    /// The identity provider answered with an error status instead of an assertion.
    #[error("the identity provider refused the sign-in: status {status}{}{}",
        sub_status.as_deref().map(|s| format!(" ({s})")).unwrap_or_default(),
        message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    StatusNotSuccess {
        status: String,
        sub_status: Option<String>,
        message: Option<String>,
    },

    /// The response has more than one assertion (Warden accepts exactly one).
    #[error("the SAML response contains more than one assertion; Warden accepts exactly one")]
    MultipleAssertions,

    /// The response has no assertion.
    #[error("the SAML response contains no assertion")]
    NoAssertion,

    /// The response has an EncryptedAssertion.
    #[error(
        "encrypted assertions are not supported: turn off assertion encryption for Warden in the \
         identity provider (the response is still signed and sent over HTTPS)"
    )]
    EncryptedAssertionUnsupported,

    /// The assertion has no usable bearer SubjectConfirmation (with SubjectConfirmationData
    /// and NotOnOrAfter).
    #[error("the assertion has no bearer SubjectConfirmation with a NotOnOrAfter")]
    SubjectConfirmationMissing,

    /// The Response's InResponseTo and the assertion's disagree.
    #[error("the response's InResponseTo and the assertion's disagree")]
    InResponseToMismatch,

    /// samael failed in a way none of the above describes.
    #[error("SAML processing failed: {reason}")]
    Internal { reason: String },
}

/// A value from a document, clipped to [`QUOTE_LIMIT`] characters for an error message.
pub(crate) fn quote(value: &str) -> String {
    match value.char_indices().nth(QUOTE_LIMIT) {
        Some((end, _)) => format!("{}…", value.get(..end).unwrap_or_default()),
        None => value.to_string(),
    }
}

pub(crate) fn quote_opt(value: Option<&str>) -> Option<String> {
    value.map(quote)
}

pub(crate) fn malformed(reason: impl Into<String>) -> SamlError {
    SamlError::Malformed {
        reason: reason.into(),
    }
}

/// Maps samael's service-provider error to what failed. The match is exhaustive on purpose:
/// a samael upgrade that adds a variant does not compile until someone decides what it means.
pub(crate) fn from_samael(
    error: samael::service_provider::Error,
    expected_acs: &str,
    expected_issuer: &str,
    expected_audience: &str,
) -> SamlError {
    use samael::service_provider::Error as E;
    match error {
        E::DestinationValidationError {
            response_destination,
            ..
        } => SamlError::WrongDestination {
            expected: expected_acs.to_string(),
            found: quote_opt(response_destination.as_deref()),
        },
        // samael's "expired" for an IssueInstant older than max_issue_delay.
        E::AssertionExpired { .. } | E::ResponseExpired { .. } => SamlError::TooOld,
        E::AssertionBearerSubjectConfirmationMissing | E::AssertionSubjectConfirmationMissing => {
            SamlError::SubjectConfirmationMissing
        }
        E::AssertionSubjectConfirmationExpired { .. } | E::AssertionConditionExpired { .. } => {
            SamlError::Expired
        }
        E::AssertionSubjectConfirmationExpiredBefore { .. }
        | E::AssertionConditionExpiredBefore { .. } => SamlError::NotYetValid,
        E::AssertionIssuerMismatch { issuer, .. } | E::ResponseIssuerMismatch { issuer, .. } => {
            SamlError::WrongIssuer {
                expected: expected_issuer.to_string(),
                found: quote_opt(issuer.as_deref()),
            }
        }
        E::AssertionConditionAudienceRestrictionFailed { .. } => SamlError::WrongAudience {
            expected: expected_audience.to_string(),
        },
        E::AssertionRecipientMismatch {
            assertion_recipient,
            ..
        } => SamlError::WrongRecipient {
            expected: expected_acs.to_string(),
            found: quote_opt(assertion_recipient.as_deref()),
        },
        // Not reachable with allow_idp_initiated = true (Warden's caller checks InResponseTo).
        E::AssertionInResponseToInvalid { .. } | E::ResponseInResponseToInvalid { .. } => {
            SamlError::InResponseToMismatch
        }
        E::ResponseBadStatusCode { code } => SamlError::StatusNotSuccess {
            status: quote(&code),
            sub_status: None,
            message: None,
        },
        E::EncryptedAssertionsNotYetSupported
        | E::MissingPrivateKeySP
        | E::MissingEncryptedKeyInfo
        | E::MissingEncryptedValueInfo
        | E::EncryptedAssertionKeyMethodUnsupported { .. }
        | E::EncryptedAssertionValueMethodUnsupported { .. }
        | E::EncryptedAssertionInvalid
        | E::FailedToDecryptAssertion => SamlError::EncryptedAssertionUnsupported,
        E::FailedToValidateSignature => SamlError::SignatureInvalid,
        E::DeserializeResponseError => malformed("samael could not read the response"),
        E::FailedToParseSamlResponse(source) => malformed(format!(
            "not a SAML Response samael can read ({})",
            quote(&source.to_string())
        )),
        E::FailedToParseSamlAssertion(source) => malformed(format!(
            "the signed assertion cannot be read ({})",
            quote(&source.to_string())
        )),
        E::CryptoXmlError(source) => malformed(format!(
            "XML signature processing: {}",
            quote(&source.to_string())
        )),
        E::FailedToParseCert { .. } => SamlError::InvalidCertificate {
            index: 0,
            reason: "samael could not read a configured certificate".to_string(),
        },
        E::UnexpectedError => malformed("the response has neither an assertion nor a status"),
        E::CryptoProviderError(source) => SamlError::Internal {
            reason: format!("crypto provider: {}", quote(&source.to_string())),
        },
        E::UnsupportedKey => SamlError::Internal {
            reason: "unsupported key format".to_string(),
        },
        E::MissingAcsUrl | E::MissingSloUrl => SamlError::Internal {
            reason: "samael's service provider is missing a URL".to_string(),
        },
    }
}
