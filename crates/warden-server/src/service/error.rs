//! Why a service call failed. The HTTP layer renders these as problem details; the service
//! itself knows nothing of HTTP.

use warden_core::{BatchError, Code, DomainError, ErrorCode};
use warden_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Batch(#[from] BatchError),
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("the token has expired")]
    TokenExpired,
    /// A SAML response that fails a check; says which.
    #[error("SAML response rejected: {0}")]
    SamlRejected(String),
    #[error("too many failed authentications from this address; retry in {retry_after_secs} s")]
    TooManyFailedAuthentications { retry_after_secs: u64 },
    #[error("revision {requested} is not reached: this server is at revision {current}")]
    RevisionNotReached { requested: u64, current: u64 },
    #[error("the organization changed concurrently too often; retry the call")]
    ConcurrentModification,
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
    /// The server cannot serve (its store does not answer).
    #[error("not ready: {0}")]
    NotReady(String),
    /// A failure shared by several waiting writes (their batch failed as one).
    #[error("{message}")]
    Failed { code: Code, message: String },
}

impl ErrorCode for ServiceError {
    fn error_code(&self) -> Code {
        match self {
            ServiceError::Domain(e) => e.error_code(),
            ServiceError::Batch(e) => e.error_code(),
            ServiceError::Unauthenticated(_) => Code::Unauthenticated,
            ServiceError::TokenExpired => Code::TokenExpired,
            ServiceError::SamlRejected(_) => Code::SamlRejected,
            ServiceError::TooManyFailedAuthentications { .. } => Code::TooManyFailedAuthentications,
            ServiceError::RevisionNotReached { .. } => Code::RevisionNotReached,
            ServiceError::ConcurrentModification => Code::ConcurrentModification,
            ServiceError::Store(e) => e.error_code(),
            ServiceError::Internal(_) => Code::Internal,
            ServiceError::NotReady(_) => Code::NotReady,
            ServiceError::Failed { code, .. } => *code,
        }
    }
}

impl ServiceError {
    fn domain(&self) -> Option<&DomainError> {
        match self {
            ServiceError::Domain(e) => Some(e),
            ServiceError::Batch(e) => Some(&e.error),
            _ => None,
        }
    }

    /// The input field at fault, for `invalid_field`.
    pub fn field(&self) -> Option<&str> {
        self.domain().and_then(DomainError::field)
    }

    /// The action the caller lacked, for `forbidden`.
    pub fn action(&self) -> Option<&str> {
        self.domain().and_then(DomainError::action)
    }

    /// The roles that would have allowed the call, for `forbidden`.
    pub fn roles(&self) -> &[String] {
        self.domain().map_or(&[], DomainError::roles)
    }

    /// The closest known name, for an unknown one.
    pub fn did_you_mean(&self) -> Option<&str> {
        self.domain().and_then(DomainError::did_you_mean)
    }

    /// The server's current revision, for `revision_not_reached`.
    pub fn revision(&self) -> Option<u64> {
        match self {
            ServiceError::RevisionNotReached { current, .. } => Some(*current),
            _ => None,
        }
    }

    /// Seconds the client should wait before trying again, for a 429.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ServiceError::TooManyFailedAuthentications { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            _ => None,
        }
    }

    /// Text a client may see: internal details stay in the server's log.
    pub fn public_detail(&self) -> String {
        match self.error_code() {
            Code::Internal => "an internal error occurred; see the server log".to_string(),
            Code::DuplicateName if matches!(self, ServiceError::Store(_)) => {
                "a name or id the change needs is already taken".to_string()
            }
            _ => self.to_string(),
        }
    }
}
