//! Values as PATCH writes them: coerced to the attribute's type, compared for identity,
//! and checked against mutability.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::scim::schema::{AttrType, AttributeSchema, Mutability};
use crate::scim::{echo, member, member_key, ScimError, ScimErrorKind};

pub(super) fn invalid_value(detail: impl Into<String>) -> ScimError {
    ScimError::new(ScimErrorKind::InvalidValue, detail)
}

/// A JSON value in a few words, quoting at most [`crate::scim::MAX_ECHO`] characters.
pub(super) fn show(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
        Value::String(text) => format!("the string \"{}\"", echo(text)),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

/// `value` as attribute `attribute` (named `name` in messages) holds it: a multi-valued
/// attribute's list (one value alone becomes a list of one), a complex value's
/// sub-attributes canonically spelled and without nulls, `"True"`/`"False"` as booleans
/// (Entra ID sends them so). Schemaless values are kept as they are. `Null` stays `Null`:
/// it means "no value".
pub(super) fn coerce(
    value: &Value,
    attribute: Option<&AttributeSchema>,
    name: &str,
) -> Result<Value, ScimError> {
    match attribute {
        Some(attribute) if attribute.multi_valued => match value {
            Value::Null => Ok(Value::Null),
            Value::Array(items) => items
                .iter()
                .filter(|item| !item.is_null())
                .map(|item| coerce_single(item, attribute, name))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            single => Ok(Value::Array(vec![coerce_single(single, attribute, name)?])),
        },
        Some(attribute) => coerce_single(value, attribute, name),
        None => Ok(value.clone()),
    }
}

/// One value (or one element of a multi-valued attribute).
pub(super) fn coerce_single(
    value: &Value,
    attribute: &AttributeSchema,
    name: &str,
) -> Result<Value, ScimError> {
    let wrong =
        |expected: &str| invalid_value(format!("'{name}' takes {expected}, not {}", show(value)));
    match (attribute.ty, value) {
        (_, Value::Null) => Ok(Value::Null),
        (AttrType::Complex, Value::Object(members)) => {
            let mut coerced = Map::new();
            for (key, member_value) in members {
                let sub = attribute.sub_attribute(key).ok_or_else(|| {
                    let names = attribute.sub_attributes.iter().map(|s| s.name);
                    invalid_value(format!(
                        "'{name}' has no sub-attribute '{}'{}",
                        echo(key),
                        crate::suggest::hint(&crate::suggest::closest(key, names))
                    ))
                })?;
                let sub_value = coerce(member_value, Some(sub), &format!("{name}.{}", sub.name))?;
                if !sub_value.is_null() {
                    coerced.insert(sub.name.to_string(), sub_value);
                }
            }
            Ok(Value::Object(coerced))
        }
        (AttrType::Complex, _) => Err(wrong("an object of sub-attributes")),
        (AttrType::Boolean, Value::Bool(_)) => Ok(value.clone()),
        (AttrType::Boolean, Value::String(text)) if text.eq_ignore_ascii_case("true") => {
            Ok(Value::Bool(true))
        }
        (AttrType::Boolean, Value::String(text)) if text.eq_ignore_ascii_case("false") => {
            Ok(Value::Bool(false))
        }
        (AttrType::Boolean, _) => Err(wrong("true or false")),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(value.clone()),
        (AttrType::Integer, _) => Err(wrong("an integer")),
        (AttrType::Decimal, Value::Number(_)) => Ok(value.clone()),
        (AttrType::Decimal, _) => Err(wrong("a number")),
        (
            AttrType::String | AttrType::Reference | AttrType::DateTime | AttrType::Binary,
            Value::String(_),
        ) => Ok(value.clone()),
        (AttrType::String | AttrType::Reference | AttrType::DateTime | AttrType::Binary, _) => {
            Err(wrong("a string"))
        }
    }
}

/// Whether `value` counts as a value: not absent, `null`, an empty list or an empty object.
pub(super) fn is_assigned(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Array(items)) => !items.is_empty(),
        Some(Value::Object(members)) => !members.is_empty(),
        Some(_) => true,
    }
}

/// Refuses a change of `attribute` from `before` to `after` that its schema forbids:
/// readOnly (unless unchanged, as when a client sends `id` back), immutable once set, or
/// required and now unassigned (RFC 7644 §3.5.2, §3.5.2.2).
pub(super) fn guard(
    attribute: Option<&AttributeSchema>,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<(), ScimError> {
    let Some(attribute) = attribute else {
        return Ok(());
    };
    let name = attribute.name;
    let changed = match (is_assigned(before), is_assigned(after)) {
        (false, false) => false,
        (true, true) => before != after,
        _ => true,
    };
    let refuse = |why: String| Err(ScimError::new(ScimErrorKind::Mutability, why));
    match attribute.mutability {
        Mutability::ReadOnly if changed => refuse(format!(
            "'{name}' is readOnly: Warden sets it, a client cannot change it"
        )),
        Mutability::Immutable if changed && is_assigned(before) => refuse(format!(
            "'{name}' is immutable: it cannot be changed once set"
        )),
        _ if attribute.required && is_assigned(before) && !is_assigned(after) => refuse(format!(
            "'{name}' is required: it can be replaced but not removed"
        )),
        _ => Ok(()),
    }
}

/// Refuses a change to an existing element of `attribute` that changes one of its
/// readOnly or immutable sub-attributes (`members[value eq "a"].value` → `"b"`).
pub(super) fn guard_element(
    attribute: Option<&AttributeSchema>,
    before: &Value,
    after: &Value,
) -> Result<(), ScimError> {
    let Some(attribute) = attribute else {
        return Ok(());
    };
    for sub in attribute.sub_attributes {
        if matches!(
            sub.mutability,
            Mutability::ReadWrite | Mutability::WriteOnly
        ) {
            continue;
        }
        let was = before
            .as_object()
            .and_then(|o| member(o, sub.name))
            .map(|(_, v)| v);
        let is = after
            .as_object()
            .and_then(|o| member(o, sub.name))
            .map(|(_, v)| v);
        if is_assigned(was) && was != is {
            return Err(ScimError::new(
                ScimErrorKind::Mutability,
                format!(
                    "'{}.{}' is {}: it cannot be changed on an existing value; remove the value and add a new one",
                    attribute.name,
                    sub.name,
                    if sub.mutability == Mutability::ReadOnly { "readOnly" } else { "immutable" }
                ),
            ));
        }
    }
    Ok(())
}

/// What makes two elements of a multi-valued attribute the same: their `value` (by its
/// case-exactness) when they have one (so a member is a member whatever its `display`),
/// otherwise their whole content.
pub(super) fn identity(element: &Value, attribute: Option<&AttributeSchema>) -> String {
    let value_schema = attribute.and_then(AttributeSchema::value_sub_attribute);
    let value = match element {
        Value::Object(members) => member(members, "value").map(|(_, v)| v),
        scalar => Some(scalar),
    };
    match value {
        Some(Value::String(text)) => {
            let exact = value_schema.or(attribute).is_some_and(|s| s.case_exact);
            if exact {
                format!("s:{text}")
            } else {
                format!("s:{}", text.to_lowercase())
            }
        }
        Some(other) if !other.is_null() => format!("j:{other}"),
        _ => format!("e:{element}"),
    }
}

/// Positions of `items` by [`identity`], for adding and removing without a scan per item.
pub(super) fn index_by_identity(
    items: &[Value],
    attribute: Option<&AttributeSchema>,
) -> HashMap<String, Vec<usize>> {
    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
    for (position, item) in items.iter().enumerate() {
        index
            .entry(identity(item, attribute))
            .or_default()
            .push(position);
    }
    index
}

/// Writes `incoming`'s sub-attributes into the existing element `existing` (the same value
/// added again): its readWrite ones only, so that re-adding a member is never refused for
/// a `$ref` spelled differently.
pub(super) fn merge_into_existing(
    existing: &mut Value,
    incoming: &Value,
    attribute: Option<&AttributeSchema>,
) {
    let (Some(target), Some(source)) = (existing.as_object_mut(), incoming.as_object()) else {
        return;
    };
    for (key, value) in source {
        let writable = attribute
            .and_then(|a| a.sub_attribute(key))
            .is_none_or(|sub| {
                matches!(
                    sub.mutability,
                    Mutability::ReadWrite | Mutability::WriteOnly
                )
            });
        if writable {
            set_member(target, key, value.clone());
        }
    }
}

/// Sets `object`'s member `name` (reusing the key's existing spelling in any case);
/// `Null` removes it.
pub(super) fn set_member(object: &mut Map<String, Value>, name: &str, value: Value) {
    let key = member_key(object, name).unwrap_or_else(|| name.to_string());
    if value.is_null() {
        object.remove(&key);
    } else {
        object.insert(key, value);
    }
}

/// After `touched` elements were written: when one of them is `primary`, no other element
/// stays primary (RFC 7644 §3.5.2). The last touched primary one wins.
pub(super) fn keep_one_primary(items: &mut [Value], touched: &[usize]) {
    let primary = |item: &Value| {
        item.as_object()
            .and_then(|o| member(o, "primary"))
            .is_some_and(|(_, v)| v == &Value::Bool(true))
    };
    let Some(winner) = touched
        .iter()
        .rev()
        .copied()
        .find(|&i| items.get(i).is_some_and(primary))
    else {
        return;
    };
    for (position, item) in items.iter_mut().enumerate() {
        if position != winner && primary(item) {
            if let Some(object) = item.as_object_mut() {
                set_member(object, "primary", Value::Bool(false));
            }
        }
    }
}
