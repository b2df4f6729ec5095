//! A PATCH `path` (RFC 7644 §3.5.2: `attrPath / valuePath [subAttr]`) resolved against the
//! resource's schema: which attribute, which of its values, which sub-attribute.

use scim_v2::filter as wire;
use serde_json::{Map, Value};

use super::filter::{
    attr_ref, check, convert_value_filter, resolve_schema, syntax_error, Filter, Scope, Syntax,
    MAX_FILTER_LEN,
};
use super::schema::{AttributeSchema, ResourceSchema};
use super::{echo, member_key, ScimError};

/// What a path names.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) place: Place,
    /// `[…]`: which values of a multi-valued attribute.
    pub(crate) filter: Option<Filter>,
    /// `.sub`: which sub-attribute (of the attribute, or of each selected value).
    pub(crate) sub: Option<Sub>,
}

#[derive(Debug)]
pub(crate) enum Place {
    /// An attribute of the core schema.
    Core(&'static AttributeSchema),
    /// `urn:…:name`: an attribute of an extension, kept as sent (no schema).
    Extension { urn: String, name: String },
    /// `urn:…`: a whole extension's object.
    ExtensionObject { urn: String },
}

#[derive(Debug)]
pub(crate) struct Sub {
    /// The canonical spelling when the schema knows it, else the client's.
    pub(crate) name: String,
    pub(crate) schema: Option<&'static AttributeSchema>,
}

impl Target {
    /// The attribute as a person would name it in a message.
    pub(crate) fn name(&self) -> String {
        match &self.place {
            Place::Core(attribute) => attribute.name.to_string(),
            Place::Extension { urn, name } => format!("{urn}:{name}"),
            Place::ExtensionObject { urn } => urn.clone(),
        }
    }
}

/// Resolves `text` against `schema`; `resource` tells which extension URNs it already holds
/// (so that `"path": "urn:example:ext"` names that whole object).
pub(crate) fn resolve(
    text: &str,
    schema: &ResourceSchema,
    resource: &Map<String, Value>,
) -> Result<Target, ScimError> {
    let syntax = Syntax::Path;
    if text.len() > MAX_FILTER_LEN {
        return Err(syntax.error(format!(
            "{} bytes long; at most {MAX_FILTER_LEN} are accepted",
            text.len()
        )));
    }
    let trimmed = text.trim();
    if let Some(urn) = whole_extension(trimmed, schema, resource) {
        return Ok(Target {
            place: Place::ExtensionObject { urn },
            filter: None,
            sub: None,
        });
    }
    let parsed: wire::PatchPath = trimmed
        .parse()
        .map_err(|error| syntax_error(text, error, syntax))?;
    let (attr, filter, trailing) = match parsed {
        wire::PatchPath::Attr(path) => (attr_ref(path), None, None),
        wire::PatchPath::Value(path) => {
            let filter = convert_value_filter(path.filter, 2).ok_or_else(|| syntax.too_deep())?;
            (attr_ref(path.attr), Some(filter), path.sub_attr)
        }
    };
    if filter.is_some() && attr.sub.is_some() {
        return Err(syntax.error(format!(
            "'{}': [...] must follow a multi-valued attribute, not a sub-attribute",
            echo(&attr.to_string())
        )));
    }
    let head = super::AttrRef {
        sub: None,
        ..attr.clone()
    };
    let scope = Scope::Resource(schema);
    let place = match resolve_schema(&head, &scope, syntax)? {
        Some(attribute) => Place::Core(attribute),
        None => Place::Extension {
            urn: attr.urn.clone().unwrap_or_default(),
            name: attr.name.clone(),
        },
    };
    let attribute = match place {
        Place::Core(attribute) => Some(attribute),
        _ => None,
    };
    if let (Some(filter), Some(attribute)) = (&filter, attribute) {
        if !attribute.multi_valued {
            return Err(syntax.error(format!(
                "'{}' is single-valued; [...] selects values of a multi-valued attribute",
                attribute.name
            )));
        }
        check(filter, &Scope::Element(Some(attribute)), syntax)?;
    }
    let sub_name = attr.sub.or(trailing);
    let sub = match sub_name {
        None => None,
        Some(name) => Some(match attribute {
            None => Sub { name, schema: None },
            Some(_) => {
                let full = super::AttrRef {
                    sub: Some(name),
                    ..head
                };
                let sub_schema = resolve_schema(&full, &scope, syntax)?;
                Sub {
                    name: sub_schema.map_or(full.sub.unwrap_or_default(), |s| s.name.to_string()),
                    schema: sub_schema,
                }
            }
        }),
    };
    if let (Some(attribute), Some(sub), None) = (attribute, &sub, &filter) {
        if attribute.multi_valued {
            return Err(syntax.error(format!(
                "'{}' is multi-valued: select which values with a filter, as in {}[type eq \"work\"].{}",
                attribute.name, attribute.name, sub.name
            )));
        }
    }
    Ok(Target { place, filter, sub })
}

/// The extension URN `text` names as a whole: one the schema knows or the resource holds.
fn whole_extension(
    text: &str,
    schema: &ResourceSchema,
    resource: &Map<String, Value>,
) -> Option<String> {
    if let Some(known) = schema.known_extension(text) {
        return Some(known.to_string());
    }
    let held = member_key(resource, text)?;
    let is_urn = held
        .get(..4)
        .is_some_and(|start| start.eq_ignore_ascii_case("urn:"));
    (is_urn && !schema.is_core_urn(&held)).then_some(held)
}

/// In a value without a path, whether the member `key` is a whole extension's object
/// rather than one attribute: a URN-named object that is not an attribute of a known
/// extension (`urn:…:enterprise:2.0:User:manager` is one).
pub(crate) fn is_extension_object(key: &str, value: &Value, schema: &ResourceSchema) -> bool {
    let urn_named = key
        .get(..4)
        .is_some_and(|start| start.eq_ignore_ascii_case("urn:"));
    if !urn_named || schema.is_core_urn(key) {
        return false;
    }
    if schema.known_extension(key).is_some() {
        return true;
    }
    let attribute_of_known = schema.extension_urns.iter().any(|urn| {
        key.get(..urn.len() + 1)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(&format!("{urn}:")))
    });
    value.is_object() && !attribute_of_known
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::ScimErrorKind;
    use serde_json::json;

    fn user_path(text: &str) -> Result<Target, ScimError> {
        resolve(text, &ResourceSchema::user(), &Map::new())
    }

    #[test]
    fn plain_dotted_filtered_and_urn_paths() {
        let target = user_path("userName").unwrap();
        assert!(matches!(target.place, Place::Core(a) if a.name == "userName"));
        assert!(target.filter.is_none() && target.sub.is_none());

        let target = user_path("NAME.familyname").unwrap();
        assert!(matches!(target.place, Place::Core(a) if a.name == "name"));
        assert_eq!(target.sub.unwrap().name, "familyName");

        let target = user_path(r#"emails[type eq "work"].value"#).unwrap();
        assert!(matches!(target.place, Place::Core(a) if a.name == "emails"));
        assert!(target.filter.is_some());
        assert_eq!(target.sub.unwrap().name, "value");

        let target = user_path("urn:ietf:params:scim:schemas:core:2.0:User:userName").unwrap();
        assert!(matches!(target.place, Place::Core(a) if a.name == "userName"));

        let target =
            user_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department")
                .unwrap();
        assert!(matches!(&target.place, Place::Extension { urn, name }
            if urn == "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" && name == "department"));

        let target =
            user_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").unwrap();
        assert!(matches!(&target.place, Place::ExtensionObject { urn }
            if urn == "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));

        let held = json!({"urn:example:params:scim:ext:1.0:Badge": {"level": 3}});
        let target = resolve(
            "urn:example:params:scim:ext:1.0:Badge",
            &ResourceSchema::user(),
            held.as_object().unwrap(),
        )
        .unwrap();
        assert!(matches!(&target.place, Place::ExtensionObject { urn }
            if urn == "urn:example:params:scim:ext:1.0:Badge"));
    }

    #[test]
    fn refusals_are_invalid_path() {
        let cases = [
            (
                "usrName",
                "unknown attribute 'usrName' of a User; did you mean `userName`?",
            ),
            ("name.given", "unknown sub-attribute 'given' of 'name'"),
            (
                "emails.value",
                "'emails' is multi-valued: select which values with a filter",
            ),
            (r#"name[givenName eq "x"]"#, "'name' is single-valued"),
            (
                r#"emails[kind eq "work"]"#,
                "unknown sub-attribute 'kind' of 'emails'",
            ),
            ("userName.x", "'userName' has no sub-attributes"),
            (
                "urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
                "names another core schema",
            ),
            (r#"emails[type eq "work""#, "ends too early"),
            ("a.b.c", "more than one sub-attribute"),
        ];
        for (path, expected) in cases {
            let error = user_path(path).unwrap_err();
            assert_eq!(error.kind, ScimErrorKind::InvalidPath, "{path}");
            assert!(
                error.detail.starts_with("path: "),
                "{path}: {}",
                error.detail
            );
            assert!(error.detail.contains(expected), "{path}: {}", error.detail);
        }
        let long = format!("emails[value eq \"{}\"]", "x".repeat(5000));
        let error = user_path(&long).unwrap_err();
        assert_eq!(error.kind, ScimErrorKind::InvalidPath);
        assert!(error.detail.len() < 200, "{}", error.detail);
    }

    #[test]
    fn extension_objects_in_a_value_without_path() {
        let user = ResourceSchema::user();
        let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        assert!(is_extension_object(
            enterprise,
            &json!({"department": "x"}),
            &user
        ));
        assert!(!is_extension_object(
            &format!("{enterprise}:manager"),
            &json!({"value": "id"}),
            &user
        ));
        assert!(!is_extension_object(
            &format!("{enterprise}:department"),
            &json!("x"),
            &user
        ));
        assert!(is_extension_object(
            "urn:example:ext:1.0:Badge",
            &json!({"level": 3}),
            &user
        ));
        assert!(!is_extension_object("userName", &json!("x"), &user));
        assert!(!is_extension_object(user.core_urn, &json!({}), &user));
    }
}
