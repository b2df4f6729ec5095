//! SCIM PATCH (RFC 7644 §3.5.2) applied to a resource's SCIM JSON, as Okta and Microsoft
//! Entra ID send it: `op` in any case, `"True"`/`"False"` for booleans, members removed by
//! value (`{"op":"Remove","path":"members","value":[{"value":"id"}]}`), values added through
//! a filter that matches nothing yet (`emails[type eq "work"].value`).
//!
//! A request is atomic: [`apply`] changes the resource only when every operation succeeds.

use serde_json::{Map, Value};

use super::filter::Filter;
use super::path::{self, Place, Target};
use super::schema::{AttributeSchema, ResourceSchema};
use super::{echo, member, member_key, ScimError, ScimErrorKind};

mod request;
mod values;

pub use request::{PatchOp, PatchOperation, PatchRequest, MAX_OPERATIONS, PATCH_OP_URN};

use values::{
    coerce, coerce_single, guard, guard_element, identity, index_by_identity, invalid_value,
    is_assigned, keep_one_primary, merge_into_existing, set_member,
};

/// Applies `request` to `resource` (a User's or Group's SCIM JSON object) per RFC 7644
/// §3.5.2, operation after operation. On error `resource` is unchanged and the detail
/// names the operation (counted from 1).
pub fn apply(
    resource: &mut Value,
    request: &PatchRequest,
    schema: &ResourceSchema,
) -> Result<(), ScimError> {
    if request.operations.len() > MAX_OPERATIONS {
        return Err(ScimError::new(
            ScimErrorKind::TooMany,
            format!("more than {MAX_OPERATIONS} operations in one PATCH"),
        ));
    }
    let mut working = resource.clone();
    let Some(object) = working.as_object_mut() else {
        return Err(invalid_value("the resource to patch is not a JSON object"));
    };
    for (index, operation) in request.operations.iter().enumerate() {
        apply_operation(object, operation, schema).map_err(|error| ScimError {
            detail: format!(
                "operation {} ({}): {}",
                index + 1,
                operation.op.as_str(),
                error.detail
            ),
            ..error
        })?;
    }
    *resource = working;
    Ok(())
}

fn apply_operation(
    resource: &mut Map<String, Value>,
    operation: &PatchOperation,
    schema: &ResourceSchema,
) -> Result<(), ScimError> {
    let op = operation.op;
    match (op, operation.path.as_deref(), operation.value.as_ref()) {
        (PatchOp::Remove, None, _) => Err(ScimError::new(
            ScimErrorKind::NoTarget,
            "remove needs a \"path\" naming what to remove",
        )),
        (PatchOp::Add | PatchOp::Replace, _, None) => {
            Err(invalid_value(format!("{} needs a \"value\"", op.as_str())))
        }
        (_, Some(text), value) => {
            let target = path::resolve(text, schema, resource)?;
            apply_target(resource, op, &target, value, schema)
        }
        (_, None, Some(Value::Object(members))) => {
            apply_members(resource, op, members, schema, true)
        }
        (_, None, Some(other)) => Err(invalid_value(format!(
            "without a \"path\", the value of {} must be an object of attributes, not {}",
            op.as_str(),
            values::show(other)
        ))),
    }
}

/// A value without a path: each member is an attribute (or an extension's whole object)
/// to add or replace, as if it were the path.
fn apply_members(
    resource: &mut Map<String, Value>,
    op: PatchOp,
    members: &Map<String, Value>,
    schema: &ResourceSchema,
    top: bool,
) -> Result<(), ScimError> {
    for (key, value) in members {
        // The envelope is Warden's to keep; clients echo it back with the attributes.
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if top && schema.is_core_urn(key) {
            if let Value::Object(core) = value {
                apply_members(resource, op, core, schema, false)?;
                continue;
            }
        }
        let target = if path::is_extension_object(key, value, schema) {
            Target {
                place: Place::ExtensionObject {
                    urn: schema
                        .known_extension(key)
                        .map_or_else(|| key.clone(), str::to_string),
                },
                filter: None,
                sub: None,
            }
        } else {
            path::resolve(key, schema, resource).map_err(|error| ScimError {
                kind: match error.kind {
                    ScimErrorKind::InvalidPath => ScimErrorKind::InvalidValue,
                    other => other,
                },
                // A member of the value is named like a path, but it is not the "path".
                detail: format!(
                    "value: {}",
                    error.detail.strip_prefix("path: ").unwrap_or(&error.detail)
                ),
            })?
        };
        apply_target(resource, op, &target, Some(value), schema)?;
    }
    Ok(())
}

fn apply_target(
    resource: &mut Map<String, Value>,
    op: PatchOp,
    target: &Target,
    value: Option<&Value>,
    schema: &ResourceSchema,
) -> Result<(), ScimError> {
    match &target.place {
        Place::Core(attribute) => {
            operate(resource, attribute.name, Some(attribute), op, target, value)
        }
        Place::Extension { urn, name } => {
            let urn = schema
                .known_extension(urn)
                .map_or_else(|| urn.clone(), str::to_string);
            let key = member_key(resource, &urn).unwrap_or_else(|| urn.clone());
            let mut extension = match resource.remove(&key) {
                Some(Value::Object(extension)) => extension,
                _ => Map::new(),
            };
            let result = operate(&mut extension, name, None, op, target, value);
            resource.insert(key.clone(), Value::Object(extension));
            result?;
            sync_extension(resource, &key, schema);
            Ok(())
        }
        Place::ExtensionObject { urn } => {
            let key = member_key(resource, urn).unwrap_or_else(|| urn.clone());
            match (op, value) {
                (PatchOp::Remove, _) | (_, Some(Value::Null)) => {
                    resource.remove(&key);
                }
                (_, Some(Value::Object(members))) => {
                    let mut extension = match resource.remove(&key) {
                        Some(Value::Object(extension)) => extension,
                        _ => Map::new(),
                    };
                    for (name, member_value) in members {
                        let member_target = Target {
                            place: Place::Extension {
                                urn: urn.clone(),
                                name: name.clone(),
                            },
                            filter: None,
                            sub: None,
                        };
                        operate(
                            &mut extension,
                            name,
                            None,
                            op,
                            &member_target,
                            Some(member_value),
                        )?;
                    }
                    resource.insert(key.clone(), Value::Object(extension));
                }
                (_, other) => {
                    return Err(invalid_value(format!(
                        "'{}' takes an object of its attributes, not {}",
                        echo(urn),
                        other.map_or_else(|| "nothing".to_string(), values::show)
                    )))
                }
            }
            sync_extension(resource, &key, schema);
            Ok(())
        }
    }
}

/// Keeps `schemas` listing the extension `key` exactly while the resource holds data for
/// it (RFC 7644 §3.5.2), and drops an extension left empty.
fn sync_extension(resource: &mut Map<String, Value>, key: &str, schema: &ResourceSchema) {
    let holds = is_assigned(resource.get(key));
    if !holds {
        resource.remove(key);
    }
    let schemas_key = member_key(resource, "schemas").unwrap_or_else(|| "schemas".to_string());
    let mut schemas = match resource.remove(&schemas_key) {
        Some(Value::Array(items)) => items,
        _ => vec![Value::String(schema.core_urn.to_string())],
    };
    let listed = |item: &Value| item.as_str().is_some_and(|s| s.eq_ignore_ascii_case(key));
    if holds && !schemas.iter().any(listed) {
        schemas.push(Value::String(key.to_string()));
    } else if !holds {
        schemas.retain(|item| !listed(item));
    }
    resource.insert(schemas_key, Value::Array(schemas));
}

/// One operation on the attribute `name` of `container` (the resource, or an extension's
/// object when `attribute` is `None`).
fn operate(
    container: &mut Map<String, Value>,
    name: &str,
    attribute: Option<&'static AttributeSchema>,
    op: PatchOp,
    target: &Target,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let key = member_key(container, name).unwrap_or_else(|| name.to_string());
    let mut current = container.remove(&key);
    let before = attribute
        .filter(|a| a.mutability != super::Mutability::ReadWrite || a.required)
        .map(|_| current.clone());
    let shown = echo(&target.name());
    let result = match &target.filter {
        Some(filter) => {
            operate_filtered(&mut current, attribute, op, filter, target, value, &shown)
        }
        None => operate_whole(&mut current, attribute, op, target, value, &shown),
    };
    result?;
    if let Some(before) = &before {
        guard(attribute, before.as_ref(), current.as_ref())?;
    }
    if let Some(current) = current.filter(|v| is_assigned(Some(v))) {
        container.insert(key, current);
    }
    Ok(())
}

/// An operation on the whole attribute, or on one sub-attribute of a single complex one.
fn operate_whole(
    current: &mut Option<Value>,
    attribute: Option<&'static AttributeSchema>,
    op: PatchOp,
    target: &Target,
    value: Option<&Value>,
    shown: &str,
) -> Result<(), ScimError> {
    if let Some(sub) = &target.sub {
        let mut object = match current.take() {
            Some(Value::Object(object)) => object,
            None | Some(Value::Null) => Map::new(),
            Some(_) => {
                return Err(ScimError::new(
                    ScimErrorKind::InvalidPath,
                    format!("'{shown}' has no sub-attributes to address"),
                ))
            }
        };
        let new = match (op, value) {
            (PatchOp::Remove, _) | (_, None) => Value::Null,
            (_, Some(value)) => coerce(value, sub.schema, &format!("{shown}.{}", sub.name))?,
        };
        set_member(&mut object, &sub.name, new);
        *current = Some(Value::Object(object));
        return Ok(());
    }
    let multi = attribute.map_or_else(
        || current.as_ref().is_some_and(Value::is_array) && value.is_none_or(Value::is_array),
        |a| a.multi_valued,
    );
    match op {
        PatchOp::Remove => {
            match (multi, value, current.as_mut()) {
                (true, Some(selection), Some(Value::Array(items))) if !selection.is_null() => {
                    let selection = coerce(selection, attribute, shown)?;
                    remove_values(items, &selection, attribute);
                }
                _ => *current = None,
            }
            Ok(())
        }
        PatchOp::Add | PatchOp::Replace => {
            let Some(value) = value else {
                return Ok(());
            };
            let new = coerce(value, attribute, shown)?;
            let single_complex = attribute
                .is_some_and(|a| !a.multi_valued && a.ty == super::schema::AttrType::Complex)
                || (attribute.is_none()
                    && new.is_object()
                    && current.as_ref().is_some_and(Value::is_object));
            if multi && op == PatchOp::Add {
                let mut items = match current.take() {
                    Some(Value::Array(items)) => items,
                    _ => Vec::new(),
                };
                add_values(&mut items, new, attribute);
                *current = Some(Value::Array(items));
            } else if multi {
                let items = match new {
                    Value::Array(items) => items,
                    Value::Null => Vec::new(),
                    single => vec![single],
                };
                let primaries = items.iter().filter(|item| is_primary(item)).count();
                if primaries > 1 {
                    return Err(invalid_value(format!(
                        "at most one value of '{shown}' may be primary; {primaries} are"
                    )));
                }
                *current = Some(Value::Array(items));
            } else if single_complex && !new.is_null() {
                let mut object = match current.take() {
                    Some(Value::Object(object)) => object,
                    _ => Map::new(),
                };
                if let Value::Object(members) = new {
                    for (name, member_value) in members {
                        set_member(&mut object, &name, member_value);
                    }
                }
                *current = Some(Value::Object(object));
            } else {
                *current = (!new.is_null()).then_some(new);
            }
            Ok(())
        }
    }
}

fn is_primary(item: &Value) -> bool {
    item.as_object()
        .and_then(|o| member(o, "primary"))
        .is_some_and(|(_, v)| v == &Value::Bool(true))
}

/// Appends the elements of `new` (a list) that `items` does not hold yet; one it holds
/// (the same `value`) gets the new one's writable sub-attributes.
fn add_values(items: &mut Vec<Value>, new: Value, attribute: Option<&'static AttributeSchema>) {
    let new = match new {
        Value::Array(new) => new,
        Value::Null => Vec::new(),
        single => vec![single],
    };
    let mut index = index_by_identity(items, attribute);
    let mut touched = Vec::new();
    for element in new {
        let id = identity(&element, attribute);
        match index
            .get(&id)
            .and_then(|positions| positions.first())
            .copied()
        {
            Some(position) => {
                if let Some(existing) = items.get_mut(position) {
                    merge_into_existing(existing, &element, attribute);
                }
                touched.push(position);
            }
            None => {
                index.entry(id).or_default().push(items.len());
                touched.push(items.len());
                items.push(element);
            }
        }
    }
    keep_one_primary(items, &touched);
}

/// Removes from `items` the elements `selection` (a list) names by identity; naming one
/// that is not there is no error (RFC 7644 §3.5.2.2: removing a non-member succeeds).
fn remove_values(
    items: &mut Vec<Value>,
    selection: &Value,
    attribute: Option<&'static AttributeSchema>,
) {
    let doomed: std::collections::HashSet<String> = match selection {
        Value::Array(selected) => selected.iter().map(|s| identity(s, attribute)).collect(),
        single => std::iter::once(identity(single, attribute)).collect(),
    };
    items.retain(|item| !doomed.contains(&identity(item, attribute)));
}

/// An operation on the values of a multi-valued attribute that `filter` selects.
fn operate_filtered(
    current: &mut Option<Value>,
    attribute: Option<&'static AttributeSchema>,
    op: PatchOp,
    filter: &Filter,
    target: &Target,
    value: Option<&Value>,
    shown: &str,
) -> Result<(), ScimError> {
    let mut items = match current.take() {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => Vec::new(),
        Some(single) => vec![single],
    };
    let selected: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| filter.matches_element(item, attribute))
        .map(|(position, _)| position)
        .collect();
    let outcome = match op {
        PatchOp::Remove => remove_selected(&mut items, &selected, attribute, target),
        PatchOp::Add | PatchOp::Replace => write_selected(
            &mut items, &selected, attribute, op, filter, target, value, shown,
        ),
    };
    *current = Some(Value::Array(items));
    outcome
}

fn remove_selected(
    items: &mut Vec<Value>,
    selected: &[usize],
    attribute: Option<&'static AttributeSchema>,
    target: &Target,
) -> Result<(), ScimError> {
    match &target.sub {
        None => {
            let mut doomed = vec![false; items.len()];
            for &position in selected {
                if let Some(flag) = doomed.get_mut(position) {
                    *flag = true;
                }
            }
            let mut flags = doomed.into_iter();
            items.retain(|_| !flags.next().unwrap_or(false));
        }
        Some(sub) => {
            for &position in selected {
                if let Some(item) = items.get_mut(position) {
                    let before = item.clone();
                    if let Value::Object(object) = item {
                        set_member(object, &sub.name, Value::Null);
                    }
                    guard_element(attribute, &before, item)?;
                }
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_selected(
    items: &mut Vec<Value>,
    selected: &[usize],
    attribute: Option<&'static AttributeSchema>,
    op: PatchOp,
    filter: &Filter,
    target: &Target,
    value: Option<&Value>,
    shown: &str,
) -> Result<(), ScimError> {
    let Some(value) = value else {
        return Ok(());
    };
    let element_value = |value: &Value| -> Result<Value, ScimError> {
        match attribute {
            Some(attribute) => coerce_single(value, attribute, shown),
            None => Ok(value.clone()),
        }
    };
    let new = match &target.sub {
        Some(sub) => coerce(value, sub.schema, &format!("{shown}.{}", sub.name))?,
        None => element_value(value)?,
    };
    if selected.is_empty() {
        // RFC 7644 §3.5.2.3: a replace whose filter matches no value fails, but one of an
        // attribute without any value is an add.
        if op == PatchOp::Replace && !items.is_empty() {
            return Err(ScimError::new(
                ScimErrorKind::NoTarget,
                format!("no value of '{shown}' matches the path's filter"),
            ));
        }
        // Entra ID adds `emails[type eq "work"].value` to a user without a work email: the
        // filter's equalities are the new value's other sub-attributes.
        let Some(mut seed) = seed_from(filter) else {
            return Err(ScimError::new(
                ScimErrorKind::NoTarget,
                format!(
                    "no value of '{shown}' matches the path's filter, and it does not say what a new value would be (only 'eq' joined by 'and' does)"
                ),
            ));
        };
        match (&target.sub, new) {
            (Some(sub), new) => set_member(&mut seed, &sub.name, new),
            (None, Value::Object(members)) => {
                for (name, member_value) in members {
                    set_member(&mut seed, &name, member_value);
                }
            }
            (None, other) => {
                return Err(invalid_value(format!(
                    "'{shown}' values are objects, not {}",
                    values::show(&other)
                )))
            }
        }
        let element = element_value(&Value::Object(seed))?;
        let position = items.len();
        items.push(element);
        keep_one_primary(items, &[position]);
        return Ok(());
    }
    for &position in selected {
        let Some(item) = items.get_mut(position) else {
            continue;
        };
        let before = item.clone();
        match (&target.sub, op) {
            (Some(sub), _) => {
                if let Value::Object(object) = item {
                    set_member(object, &sub.name, new.clone());
                }
            }
            (None, PatchOp::Replace) => *item = new.clone(),
            (None, _) => merge_into_existing(item, &new, None),
        }
        guard_element(attribute, &before, item)?;
    }
    keep_one_primary(items, selected);
    Ok(())
}

/// The sub-attributes a filter of `eq`s joined by `and` pins (`type eq "work"` →
/// `{"type": "work"}`); `None` for any other filter.
fn seed_from(filter: &Filter) -> Option<Map<String, Value>> {
    let mut seed = Map::new();
    let mut pin = |f: &Filter| -> Option<()> {
        let Filter::Compare(reference, super::CompareOp::Eq, literal) = f else {
            return None;
        };
        if reference.urn.is_some() || reference.sub.is_some() {
            return None;
        }
        let value = match literal {
            super::Literal::String(s) => Value::String(s.clone()),
            super::Literal::Number(n) => Value::Number(n.clone()),
            super::Literal::Bool(b) => Value::Bool(*b),
            super::Literal::Null => return None,
        };
        seed.insert(reference.name.clone(), value);
        Some(())
    };
    match filter {
        Filter::And(items) => items.iter().try_for_each(&mut pin)?,
        single => pin(single)?,
    }
    Some(seed)
}

#[cfg(test)]
mod tests;
