//! # warden-saml
//!
//! Warden's SAML 2.0 service provider, one per organization, on
//! [samael](https://crates.io/crates/samael) (XML signatures through xmlsec1/libxml2). No
//! database and no HTTP: the server stores the settings, serves the endpoints and calls
//! this crate.
//!
//! | step | function |
//! | --- | --- |
//! | configure the IdP | [`IdpSettings::from_metadata_xml`] or [`IdpSettings::new`]; [`IdpSettings::certificate_summaries`] to show fingerprints and expiry |
//! | give the IdP Warden's metadata | [`ServiceProviderIdentity::for_organization`], [`sp_metadata_xml`] |
//! | SP-initiated sign-in | [`authn_request_redirect`] (HTTP-Redirect binding) |
//! | the ACS endpoint | [`verify_response`] on the posted `SAMLResponse` |
//!
//! ## What it guarantees
//!
//! * **A signature is always required.** [`verify_response`] accepts a response only if
//!   the Response or the Assertion carries an XML signature (RSA or ECDSA with SHA-256/384/512;
//!   SHA-1 is refused) that verifies with one of the organization's configured
//!   certificates, never with a certificate the response brings along in its KeyInfo.
//! * **The guard.** samael skips signature verification without a word when its IdP
//!   metadata has no signing certificate. This crate therefore refuses to build settings
//!   without one ([`SamlError::NoSigningCertificate`] from both constructors), refuses to
//!   verify with settings that have none (settings read back from storage are plain data),
//!   and hands samael its certificates through a type that cannot be empty, checking
//!   samael's own view of them before each verification.
//! * What is verified is what is returned: identity and attributes come from samael's
//!   reduction of the document to what the signatures cover.
//! * Exactly one assertion, not encrypted ([`SamlError::MultipleAssertions`],
//!   [`SamlError::EncryptedAssertionUnsupported`]): an extra unsigned assertion (signature
//!   wrapping) is refused outright. No DTDs. At most 256 KiB of base64.
//! * Audience = the SP entity ID (every AudienceRestriction, and at least one); a bearer
//!   SubjectConfirmation whose Recipient is the ACS URL; Destination (when present, as
//!   SAML allows for an unsigned Response) = the ACS URL; Issuer = the IdP entity ID;
//!   status Success; NotBefore / NotOnOrAfter within [`VerifyOptions::clock_skew`];
//!   IssueInstant within [`VerifyOptions::max_age`] (and not in the future).
//! * Every refusal says what failed ([`SamlError`]), quoting no secret.
//!
//! ## What it leaves to the caller
//!
//! * **InResponseTo.** samael runs with `allow_idp_initiated = true` (it then checks no
//!   InResponseTo at all). [`VerifiedAssertion::in_response_to`] is the request the
//!   assertion answers (`None` for IdP-initiated sign-in): the caller must match it against
//!   the request IDs it issued (and consume the one matched), refuse an unknown one, and
//!   refuse `None` when the organization disallows IdP-initiated sign-in.
//! * **Replay.** The caller keeps [`VerifiedAssertion::assertion_id`] in a replay cache
//!   until [`VerifiedAssertion::not_on_or_after`] (plus the clock skew) and refuses an ID
//!   seen before.
//! * **Users.** Mapping the NameID and attributes to a Warden user (creation, email
//!   verification policy, groups) is the server's.
//! * **Clocks.** samael reads the system clock itself; there is no injectable "now" for
//!   verification.
//! * **RelayState** is opaque here: the caller must not redirect to it unchecked.
//!
//! ## Testing
//!
//! With the `test-idp` feature, `test_idp::TestIdp` signs responses (and the attacks
//! Warden must refuse) in-process.

mod error;
mod idp;
mod sp;
mod verify;
mod xml;

#[cfg(feature = "test-idp")]
pub mod test_idp;

pub use error::{SamlError, QUOTE_LIMIT};
pub use idp::{CertificateSummary, IdpSettings, MAX_CERTIFICATES, MAX_METADATA_BYTES};
pub use sp::{authn_request_redirect, sp_metadata_xml, ServiceProviderIdentity, MAX_RELAY_STATE};
pub use verify::{verify_response, VerifiedAssertion, VerifyOptions, MAX_RESPONSE_BASE64};
