//! The PATCH request body (RFC 7644 §3.5.2): `schemas` with the PatchOp URN and a list of
//! `Operations`, read leniently where IdPs differ (`"op": "Replace"`, member names in any
//! case) and strictly where the meaning would be lost.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::scim::{echo, member, member_key, ScimError, ScimErrorKind};

/// The `schemas` value every PATCH body carries.
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The most operations one request may carry.
pub const MAX_OPERATIONS: usize = 1000;

/// A PATCH body. Deserializing checks it ([`PatchRequest::from_value`]'s rules).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Value")]
pub struct PatchRequest {
    pub schemas: Vec<String>,
    #[serde(rename = "Operations")]
    pub operations: Vec<PatchOperation>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatchOperation {
    pub op: PatchOp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PatchOp {
    Add,
    Remove,
    Replace,
}

impl PatchOp {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PatchOp::Add => "add",
            PatchOp::Remove => "remove",
            PatchOp::Replace => "replace",
        }
    }
}

fn syntax(detail: impl Into<String>) -> ScimError {
    ScimError::new(ScimErrorKind::InvalidSyntax, detail)
}

impl PatchRequest {
    /// Parses a PATCH body; refusals are `invalidSyntax`.
    pub fn from_json(body: &str) -> Result<PatchRequest, ScimError> {
        let value: Value = serde_json::from_str(body)
            .map_err(|e| syntax(format!("the PATCH body is not JSON: {e}")))?;
        PatchRequest::from_value(value)
    }

    /// Checks a PATCH body: an object whose `schemas` holds [`PATCH_OP_URN`] and whose
    /// `Operations` holds 1 to [`MAX_OPERATIONS`] objects, each with an `op` of add,
    /// remove or replace (in any case), an optional string `path` (empty means none) and an
    /// optional `value`. Member names are matched ignoring case.
    pub fn from_value(body: Value) -> Result<PatchRequest, ScimError> {
        let Value::Object(mut body) = body else {
            return Err(syntax("the PATCH body must be a JSON object"));
        };
        let schemas = match member(&body, "schemas").map(|(_, v)| v) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        if !schemas.iter().any(|s| s.eq_ignore_ascii_case(PATCH_OP_URN)) {
            return Err(syntax(format!(
                "the PATCH body's \"schemas\" must be [\"{PATCH_OP_URN}\"]"
            )));
        }
        let key = member_key(&body, "Operations");
        let operations = match key.and_then(|k| body.remove(&k)) {
            Some(Value::Array(items)) => items,
            _ => {
                return Err(syntax(
                    "the PATCH body must have \"Operations\": a list of {\"op\", \"path\", \"value\"} objects",
                ))
            }
        };
        if operations.is_empty() {
            return Err(syntax("\"Operations\" is empty: there is nothing to do"));
        }
        if operations.len() > MAX_OPERATIONS {
            return Err(ScimError::new(
                ScimErrorKind::TooMany,
                format!(
                    "{} operations in one PATCH; at most {MAX_OPERATIONS} are accepted: send several requests",
                    operations.len()
                ),
            ));
        }
        let operations = operations
            .into_iter()
            .enumerate()
            .map(|(index, operation)| operation_from(index + 1, operation))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PatchRequest {
            schemas,
            operations,
        })
    }
}

impl TryFrom<Value> for PatchRequest {
    type Error = ScimError;

    fn try_from(body: Value) -> Result<PatchRequest, ScimError> {
        PatchRequest::from_value(body)
    }
}

fn operation_from(number: usize, operation: Value) -> Result<PatchOperation, ScimError> {
    let Value::Object(mut operation) = operation else {
        return Err(syntax(format!("operation {number} must be a JSON object")));
    };
    let mut take = |name: &str| member_key(&operation, name).and_then(|k| operation.remove(&k));
    let op = match take("op") {
        Some(Value::String(op)) if op.eq_ignore_ascii_case("add") => PatchOp::Add,
        Some(Value::String(op)) if op.eq_ignore_ascii_case("remove") => PatchOp::Remove,
        Some(Value::String(op)) if op.eq_ignore_ascii_case("replace") => PatchOp::Replace,
        Some(Value::String(op)) => {
            return Err(syntax(format!(
                "operation {number}: op '{}' is not add, remove or replace",
                echo(&op)
            )))
        }
        _ => {
            return Err(syntax(format!(
                "operation {number} has no \"op\" (add, remove or replace)"
            )))
        }
    };
    let path = match take("path") {
        None | Some(Value::Null) => None,
        Some(Value::String(path)) if path.trim().is_empty() => None,
        Some(Value::String(path)) => Some(path),
        Some(_) => {
            return Err(syntax(format!(
                "operation {number}: \"path\" must be a string"
            )))
        }
    };
    let value = take("value");
    Ok(PatchOperation { op, path, value })
}
