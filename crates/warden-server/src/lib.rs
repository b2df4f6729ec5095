//! Warden's server: the service (every organization's compiled snapshot, kept in step with
//! the store; the write path; token authentication; the outbox) and its HTTP API under
//! `/v1`, authenticated by bearer tokens and authorized by the engine.

pub mod http;
pub mod service;

pub use crate::http::{app, openapi, serve, serve_app, ClientAddr, Limits};
pub use crate::service::{
    AuthFailureLimit, Caller, MailError, MailFrom, Mailer, Password, Service, ServiceError,
    Settings, SmtpLogin, SmtpMailer, SmtpSecurity, SmtpSettings,
};
