//! The attributes of the SCIM resources Warden serves (RFC 7643 §3.1, §4.1, §4.2): a small
//! static table that tells the filter evaluator which comparisons are case-exact and tells
//! PATCH what may be written, with what type, and what may never be removed.

/// The data type of an attribute (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    /// An `xsd:dateTime` string; compared chronologically by `gt`, `ge`, `lt`, `le`.
    DateTime,
    Binary,
    /// A URI (RFC 7643 §2.3.7); always case-exact.
    Reference,
    /// An object of sub-attributes.
    Complex,
}

/// Who may write an attribute (RFC 7643 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    /// Set by the service provider only; a client may send it back unchanged.
    ReadOnly,
    ReadWrite,
    /// May be set once (when it has no value), never changed afterwards.
    Immutable,
    /// May be written, is never returned (`password`).
    WriteOnly,
}

/// One attribute, or one sub-attribute of a complex attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeSchema {
    /// The canonical spelling; lookups ignore ASCII case (RFC 7643 §2.1).
    pub name: &'static str,
    pub ty: AttrType,
    pub multi_valued: bool,
    /// Whether string comparisons respect case (`caseExact`, RFC 7643 §2.2).
    pub case_exact: bool,
    pub mutability: Mutability,
    /// Whether PATCH may leave the resource without a value for it (RFC 7644 §3.5.2.2).
    pub required: bool,
    /// Empty unless `ty` is [`AttrType::Complex`].
    pub sub_attributes: &'static [AttributeSchema],
}

impl AttributeSchema {
    /// The sub-attribute called `name` (in any ASCII case).
    pub fn sub_attribute(&self, name: &str) -> Option<&'static AttributeSchema> {
        self.sub_attributes
            .iter()
            .find(|sub| sub.name.eq_ignore_ascii_case(name))
    }

    /// Whether a multi-valued attribute has a `value` sub-attribute, which then identifies
    /// an element (`members[value eq "…"]`) and stands for the element in a filter without
    /// a sub-attribute (`emails co "example.com"`).
    pub(crate) fn value_sub_attribute(&self) -> Option<&'static AttributeSchema> {
        self.sub_attribute("value")
    }
}

/// The attributes of one resource type: its core schema and which extension schemas it
/// knows by name. Data under any other extension URN is kept as the client sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceSchema {
    /// The resource type's name, for messages (`User`, `Group`).
    pub resource_type: &'static str,
    /// The core schema URN, which may prefix a core attribute's name in a filter or a path.
    pub core_urn: &'static str,
    /// Extension schema URNs a path may name as a whole (`"path": "urn:…:enterprise:2.0:User"`).
    pub extension_urns: &'static [&'static str],
    pub attributes: &'static [AttributeSchema],
}

/// The URN of the core User schema.
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The URN of the core Group schema.
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The URN of the enterprise User extension (RFC 7643 §4.3).
pub const ENTERPRISE_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Every core schema starts so; a core URN that is not the resource's own is refused.
pub(crate) const CORE_URN_PREFIX: &str = "urn:ietf:params:scim:schemas:core:";

impl ResourceSchema {
    /// RFC 7643 §4.1's User, with the common attributes of §3.1.
    pub fn user() -> ResourceSchema {
        ResourceSchema {
            resource_type: "User",
            core_urn: USER_URN,
            extension_urns: &[ENTERPRISE_USER_URN],
            attributes: USER_ATTRIBUTES,
        }
    }

    /// RFC 7643 §4.2's Group, with the common attributes of §3.1.
    pub fn group() -> ResourceSchema {
        ResourceSchema {
            resource_type: "Group",
            core_urn: GROUP_URN,
            extension_urns: &[],
            attributes: GROUP_ATTRIBUTES,
        }
    }

    /// The core attribute called `name` (in any ASCII case).
    pub fn attribute(&self, name: &str) -> Option<&'static AttributeSchema> {
        self.attributes
            .iter()
            .find(|attribute| attribute.name.eq_ignore_ascii_case(name))
    }

    /// Whether `urn` names this resource's core schema (in any ASCII case).
    pub(crate) fn is_core_urn(&self, urn: &str) -> bool {
        urn.eq_ignore_ascii_case(self.core_urn)
    }

    /// The known extension URN equal to `urn` in any ASCII case, canonically spelled.
    pub(crate) fn known_extension(&self, urn: &str) -> Option<&'static str> {
        self.extension_urns
            .iter()
            .copied()
            .find(|known| known.eq_ignore_ascii_case(urn))
    }
}

const fn attr(name: &'static str, ty: AttrType) -> AttributeSchema {
    AttributeSchema {
        name,
        ty,
        multi_valued: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        required: false,
        sub_attributes: &[],
    }
}

const fn complex(name: &'static str, subs: &'static [AttributeSchema]) -> AttributeSchema {
    AttributeSchema {
        sub_attributes: subs,
        ..attr(name, AttrType::Complex)
    }
}

const fn multi(attribute: AttributeSchema) -> AttributeSchema {
    AttributeSchema {
        multi_valued: true,
        ..attribute
    }
}

const fn exact(attribute: AttributeSchema) -> AttributeSchema {
    AttributeSchema {
        case_exact: true,
        ..attribute
    }
}

const fn required(attribute: AttributeSchema) -> AttributeSchema {
    AttributeSchema {
        required: true,
        ..attribute
    }
}

const fn with_mutability(attribute: AttributeSchema, mutability: Mutability) -> AttributeSchema {
    AttributeSchema {
        mutability,
        ..attribute
    }
}

const fn string(name: &'static str) -> AttributeSchema {
    attr(name, AttrType::String)
}

const fn reference(name: &'static str) -> AttributeSchema {
    exact(attr(name, AttrType::Reference))
}

const fn boolean(name: &'static str) -> AttributeSchema {
    attr(name, AttrType::Boolean)
}

use AttrType::DateTime;
use Mutability::{Immutable, ReadOnly, WriteOnly};

/// `schemas`, `id`, `externalId` and `meta` (RFC 7643 §3.1), first in both resource types.
/// `id` and `externalId` are case-exact; `schemas` holds URNs, compared ignoring case.
const SCHEMAS: AttributeSchema = with_mutability(multi(string("schemas")), ReadOnly);
const ID: AttributeSchema = with_mutability(exact(string("id")), ReadOnly);
const EXTERNAL_ID: AttributeSchema = exact(string("externalId"));
const META: AttributeSchema = with_mutability(
    complex(
        "meta",
        &[
            exact(string("resourceType")),
            attr("created", DateTime),
            attr("lastModified", DateTime),
            reference("location"),
            exact(string("version")),
        ],
    ),
    ReadOnly,
);

/// The `value`, `display`, `type`, `primary` shape of emails, phone numbers, ims, etc.
const PLURAL: &[AttributeSchema] = &[
    string("value"),
    string("display"),
    string("type"),
    boolean("primary"),
];

const USER_ATTRIBUTES: &[AttributeSchema] = &[
    SCHEMAS,
    ID,
    EXTERNAL_ID,
    META,
    required(string("userName")),
    complex(
        "name",
        &[
            string("formatted"),
            string("familyName"),
            string("givenName"),
            string("middleName"),
            string("honorificPrefix"),
            string("honorificSuffix"),
        ],
    ),
    string("displayName"),
    string("nickName"),
    reference("profileUrl"),
    string("title"),
    string("userType"),
    string("preferredLanguage"),
    string("locale"),
    string("timezone"),
    boolean("active"),
    with_mutability(exact(string("password")), WriteOnly),
    multi(complex("emails", PLURAL)),
    multi(complex("phoneNumbers", PLURAL)),
    multi(complex("ims", PLURAL)),
    multi(complex(
        "photos",
        &[
            reference("value"),
            string("display"),
            string("type"),
            boolean("primary"),
        ],
    )),
    multi(complex(
        "addresses",
        &[
            string("formatted"),
            string("streetAddress"),
            string("locality"),
            string("region"),
            string("postalCode"),
            string("country"),
            string("type"),
            boolean("primary"),
        ],
    )),
    with_mutability(
        multi(complex(
            "groups",
            &[
                string("value"),
                reference("$ref"),
                string("display"),
                string("type"),
            ],
        )),
        ReadOnly,
    ),
    multi(complex("entitlements", PLURAL)),
    multi(complex("roles", PLURAL)),
    multi(complex(
        "x509Certificates",
        &[
            exact(attr("value", AttrType::Binary)),
            string("display"),
            string("type"),
            boolean("primary"),
        ],
    )),
];

const GROUP_ATTRIBUTES: &[AttributeSchema] = &[
    SCHEMAS,
    ID,
    EXTERNAL_ID,
    META,
    // RFC 7643 §4.2's prose requires it (its §8.7.1 definition says otherwise).
    required(string("displayName")),
    // A member is added or removed whole: its identity cannot be edited in place.
    multi(complex(
        "members",
        &[
            with_mutability(string("value"), Immutable),
            with_mutability(reference("$ref"), Immutable),
            with_mutability(string("type"), Immutable),
            string("display"),
        ],
    )),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case_and_give_the_canonical_spelling() {
        let user = ResourceSchema::user();
        assert_eq!(user.attribute("USERNAME").unwrap().name, "userName");
        assert_eq!(
            user.attribute("name")
                .unwrap()
                .sub_attribute("GIVENNAME")
                .unwrap()
                .name,
            "givenName"
        );
        assert!(user.attribute("members").is_none());
        assert!(ResourceSchema::group().attribute("userName").is_none());
        assert_eq!(
            ResourceSchema::group()
                .attribute("Members")
                .unwrap()
                .sub_attribute("$REF")
                .unwrap()
                .mutability,
            Mutability::Immutable
        );
    }

    #[test]
    fn rfc_7643_characteristics() {
        let user = ResourceSchema::user();
        let of = |name: &str| user.attribute(name).unwrap();
        assert!(of("id").case_exact && of("externalId").case_exact);
        assert!(!of("userName").case_exact && !of("displayName").case_exact);
        assert_eq!(of("id").mutability, Mutability::ReadOnly);
        assert_eq!(of("meta").mutability, Mutability::ReadOnly);
        assert_eq!(of("groups").mutability, Mutability::ReadOnly);
        assert!(of("userName").required && !of("displayName").required);
        assert!(of("emails").multi_valued && !of("name").multi_valued);
        assert_eq!(of("active").ty, AttrType::Boolean);
        assert!(of("profileUrl").case_exact);
        assert!(!of("emails").value_sub_attribute().unwrap().case_exact);
        assert!(of("addresses").value_sub_attribute().is_none());
        assert!(
            ResourceSchema::group()
                .attribute("displayName")
                .unwrap()
                .required
        );
        assert!(user.is_core_urn("URN:ietf:params:scim:schemas:core:2.0:user"));
        assert_eq!(
            user.known_extension("urn:ietf:params:scim:schemas:extension:enterprise:2.0:user"),
            Some(ENTERPRISE_USER_URN)
        );
    }
}
