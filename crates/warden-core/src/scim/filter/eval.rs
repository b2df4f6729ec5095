//! A filter evaluated against a resource's SCIM JSON (RFC 7644 §3.4.2.2).
//!
//! - A multi-valued attribute matches when any of its values does (`emails.value co "x"`).
//! - A complex attribute compared without a sub-attribute stands for its `value`
//!   sub-attribute (`emails co "example.com"`, as RFC 7644's examples write it).
//! - Strings compare ignoring case unless the schema says `caseExact` (`id`, `externalId`,
//!   references); `dateTime` attributes order chronologically; numbers numerically.
//! - An attribute without a value: `pr` and every operator fail, except `ne` (nothing is
//!   not equal to the value) and `eq null`.
//! - Values of a type the operator does not fit (a string compared with a number, an
//!   ordering of booleans) do not match; [`Filter::check`] refuses such filters up front
//!   where the schema knows the type.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::{AttrRef, CompareOp, Filter, Literal, Scope};
use crate::scim::member;
use crate::scim::schema::{AttrType, AttributeSchema, ResourceSchema};
use crate::timestamp::Timestamp;

impl Filter {
    /// Whether `resource` (a User's or Group's SCIM JSON) matches. Call
    /// [`Filter::check`] once first, to refuse what the schema makes meaningless.
    pub fn matches(&self, resource: &Value, schema: &ResourceSchema) -> bool {
        evaluate(self, resource, &Scope::Resource(schema))
    }

    /// Whether one element of a multi-valued (or complex) attribute matches this filter
    /// over its sub-attributes (the inside of `emails[…]`).
    pub(crate) fn matches_element(
        &self,
        element: &Value,
        attribute: Option<&'static AttributeSchema>,
    ) -> bool {
        evaluate(self, element, &Scope::Element(attribute))
    }
}

fn evaluate(filter: &Filter, node: &Value, scope: &Scope<'_>) -> bool {
    match filter {
        Filter::Present(reference) => {
            let found = lookup(node, reference, scope, false);
            found.values.iter().any(|value| has_value(value))
        }
        Filter::Compare(reference, op, literal) => {
            let found = lookup(node, reference, scope, true);
            let present: Vec<&Value> = found
                .values
                .into_iter()
                .filter(|value| has_value(value))
                .collect();
            match (op, literal) {
                (CompareOp::Eq, Literal::Null) => present.is_empty(),
                (CompareOp::Ne, Literal::Null) => !present.is_empty(),
                (CompareOp::Ne, _) if present.is_empty() => true,
                _ => present
                    .iter()
                    .any(|value| compare(value, *op, literal, found.schema)),
            }
        }
        Filter::ValuePath(reference, inner) => {
            let found = lookup(node, reference, scope, false);
            found
                .values
                .iter()
                .any(|element| evaluate(inner, element, &Scope::Element(found.schema)))
        }
        Filter::Not(inner) => !evaluate(inner, node, scope),
        Filter::And(items) => items.iter().all(|item| evaluate(item, node, scope)),
        Filter::Or(items) => items.iter().any(|item| evaluate(item, node, scope)),
    }
}

/// The values an attribute reference reaches, multi-valued ones spread out, and the
/// schema of what they are values of (`None` when schemaless).
struct Found<'v> {
    values: Vec<&'v Value>,
    schema: Option<&'static AttributeSchema>,
}

/// `reference` looked up from `node`. With `implicit_value`, complex values stand for their
/// `value` sub-attribute when no sub-attribute is named.
fn lookup<'v>(
    node: &'v Value,
    reference: &AttrRef,
    scope: &Scope<'_>,
    implicit_value: bool,
) -> Found<'v> {
    let nothing = Found {
        values: Vec::new(),
        schema: None,
    };
    let (container, schema) = match scope {
        Scope::Resource(resource) => match reference.urn.as_deref() {
            Some(urn) if !resource.is_core_urn(urn) => {
                match node.as_object().and_then(|o| member(o, urn)) {
                    Some((_, extension)) => (extension, None),
                    None => return nothing,
                }
            }
            _ => (node, resource.attribute(&reference.name)),
        },
        Scope::Element(parent) => {
            if reference.urn.is_some() {
                return nothing;
            }
            // The elements of a simple multi-valued attribute are their own `value`.
            if !node.is_object() && reference.name.eq_ignore_ascii_case("value") {
                return if reference.sub.is_none() {
                    Found {
                        values: spread(Some(node)),
                        schema: *parent,
                    }
                } else {
                    nothing
                };
            }
            (node, parent.and_then(|p| p.sub_attribute(&reference.name)))
        }
    };
    let values = spread(field(container, &reference.name));
    match &reference.sub {
        Some(sub) => Found {
            values: values
                .into_iter()
                .flat_map(|value| spread(field(value, sub)))
                .collect(),
            schema: schema.and_then(|s| s.sub_attribute(sub)),
        },
        None if implicit_value && values.iter().any(|v| v.is_object()) => Found {
            values: values
                .into_iter()
                .flat_map(|value| spread(field(value, "value")))
                .collect(),
            schema: schema.and_then(AttributeSchema::value_sub_attribute),
        },
        None => Found { values, schema },
    }
}

fn field<'v>(node: &'v Value, name: &str) -> Option<&'v Value> {
    node.as_object()
        .and_then(|object: &'v Map<String, Value>| member(object, name))
        .map(|(_, value)| value)
}

/// A multi-valued attribute's elements, or a single value as one.
fn spread(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter(|v| !v.is_null()).collect(),
        Some(single) => vec![single],
    }
}

/// RFC 7644's `pr`: "a non-empty or non-null value, or … a non-empty node for complex
/// attributes".
fn has_value(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => items.iter().any(has_value),
        Value::Object(members) => members.values().any(has_value),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare(
    actual: &Value,
    op: CompareOp,
    literal: &Literal,
    schema: Option<&'static AttributeSchema>,
) -> bool {
    let equal_or_order = match (actual, literal) {
        (Value::String(actual), Literal::String(wanted)) => {
            return compare_strings(actual, op, wanted, schema);
        }
        (Value::Number(actual), Literal::Number(wanted)) => compare_numbers(actual, wanted),
        (Value::Bool(actual), Literal::Bool(wanted)) if !op.is_ordering() => {
            Some(actual.cmp(wanted))
        }
        _ => None,
    };
    match (op, equal_or_order) {
        (CompareOp::Ne, None) => true,
        (_, None) => false,
        (_, Some(order)) => ordered(op, order),
    }
}

fn ordered(op: CompareOp, order: Ordering) -> bool {
    match op {
        CompareOp::Eq => order == Ordering::Equal,
        CompareOp::Ne => order != Ordering::Equal,
        CompareOp::Gt => order == Ordering::Greater,
        CompareOp::Ge => order != Ordering::Less,
        CompareOp::Lt => order == Ordering::Less,
        CompareOp::Le => order != Ordering::Greater,
        // Substring operators need strings; numbers and booleans never contain anything.
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

fn compare_numbers(a: &serde_json::Number, b: &serde_json::Number) -> Option<Ordering> {
    match (a.as_i64(), b.as_i64()) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => match (a.as_u64(), b.as_u64()) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
        },
    }
}

fn compare_strings(
    actual: &str,
    op: CompareOp,
    wanted: &str,
    schema: Option<&'static AttributeSchema>,
) -> bool {
    if schema.is_some_and(|s| s.ty == AttrType::DateTime)
        && !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
    {
        if let (Some(a), Some(b)) = (
            Timestamp::parse_rfc3339(actual),
            Timestamp::parse_rfc3339(wanted),
        ) {
            return ordered(op, a.cmp(&b));
        }
    }
    let case_exact = schema.is_some_and(|s| s.case_exact);
    let (actual, wanted) = if case_exact {
        (actual.to_string(), wanted.to_string())
    } else {
        (actual.to_lowercase(), wanted.to_lowercase())
    };
    match op {
        CompareOp::Co => actual.contains(&wanted),
        CompareOp::Sw => actual.starts_with(&wanted),
        CompareOp::Ew => actual.ends_with(&wanted),
        _ => ordered(op, actual.cmp(&wanted)),
    }
}
