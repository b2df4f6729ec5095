//! SCIM filters (RFC 7644 §3.4.2.2): parsed with the `scim_v2` crate's parser into Warden's
//! own [`Filter`], checked against a [`ResourceSchema`] and evaluated against a resource's
//! SCIM JSON (`matches`, in `eval.rs`).
//!
//! Untrusted input: a filter longer than [`MAX_FILTER_LEN`] bytes or nested deeper than
//! [`MAX_FILTER_DEPTH`] levels is refused before anything recurses over it.

use std::fmt;

use scim_v2::filter as wire;

use super::schema::{AttrType, AttributeSchema, ResourceSchema, CORE_URN_PREFIX};
use super::{echo, ScimError, ScimErrorKind};

mod eval;

/// The longest filter (in bytes) that is parsed.
pub const MAX_FILTER_LEN: usize = 4096;
/// The deepest nesting accepted: each `and`, `or`, `not` and `[…]` is a level.
pub const MAX_FILTER_DEPTH: usize = 32;

/// A parsed filter. Attribute names keep the client's spelling; every lookup ignores ASCII
/// case (RFC 7643 §2.1).
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attr pr`: the attribute has a non-empty value.
    Present(AttrRef),
    /// `attr op literal`.
    Compare(AttrRef, CompareOp, Literal),
    /// `attr[filter]`: one element of `attr` matches the inner filter, whose attribute
    /// names are sub-attributes of `attr` (`emails[type eq "work" and value co "@x"]`).
    ValuePath(AttrRef, Box<Filter>),
    Not(Box<Filter>),
    /// Every operand matches (the parser gives at least two).
    And(Vec<Filter>),
    /// Some operand matches (the parser gives at least two).
    Or(Vec<Filter>),
}

/// An attribute as a filter or a path names it: `[urn:]name[.sub]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrRef {
    /// The schema URN it was qualified with (`urn:ietf:params:scim:schemas:core:2.0:User`).
    pub urn: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

/// The attribute operators of RFC 7644 §3.4.2.2, Table 3 (`pr` is [`Filter::Present`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A comparison value: a JSON scalar.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    String(String),
    Number(serde_json::Number),
    Bool(bool),
    Null,
}

impl Filter {
    /// Parses a `filter` query parameter (or a `/.search` body's `filter`); refusals are
    /// `invalidFilter`.
    pub fn parse(text: &str) -> Result<Filter, ScimError> {
        let trimmed = text.trim();
        if text.len() > MAX_FILTER_LEN {
            return Err(Syntax::Filter.error(format!(
                "{} bytes long; at most {MAX_FILTER_LEN} are accepted",
                text.len()
            )));
        }
        if trimmed.is_empty() {
            return Err(Syntax::Filter
                .error("empty; expected an expression such as userName eq \"bjensen\""));
        }
        let parsed: wire::Filter = trimmed
            .parse()
            .map_err(|error| syntax_error(text, error, Syntax::Filter))?;
        convert(parsed, 1).ok_or_else(|| Syntax::Filter.too_deep())
    }

    /// Parses `text` and [checks](Filter::check) it against `schema`.
    pub fn parse_for(text: &str, schema: &ResourceSchema) -> Result<Filter, ScimError> {
        let filter = Filter::parse(text)?;
        filter.check(schema)?;
        Ok(filter)
    }

    /// Refuses (`invalidFilter`) what the schema makes meaningless: an unknown core
    /// attribute or sub-attribute, `[…]` on a single-valued simple attribute, an ordering
    /// (`gt` `ge` `lt` `le`) of a boolean or binary attribute (RFC 7644 §3.4.2.2), an
    /// ordering against `true`, `false` or `null`, and `co` `sw` `ew` against a non-string.
    /// Attributes under an extension URN are not checked: their data is schemaless here.
    pub fn check(&self, schema: &ResourceSchema) -> Result<(), ScimError> {
        check(self, &Scope::Resource(schema), Syntax::Filter)
    }

    /// The literal `x` when the whole filter is `attr eq "x"` (`attr` may be dotted,
    /// `name.familyName`, and is compared ignoring ASCII case), so that the server can
    /// answer it from an index. The index must then compare as the attribute's
    /// case-exactness says (`userName` ignores case, `externalId` does not).
    pub fn equality_on(&self, attr: &str) -> Option<&str> {
        let Filter::Compare(reference, CompareOp::Eq, Literal::String(literal)) = self else {
            return None;
        };
        let plain = match &reference.sub {
            Some(sub) => format!("{}.{sub}", reference.name),
            None => reference.name.clone(),
        };
        let core = reference.urn.as_deref().is_none_or(|urn| {
            urn.get(..CORE_URN_PREFIX.len())
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case(CORE_URN_PREFIX))
        });
        let qualified = reference.urn.as_ref().map(|urn| format!("{urn}:{plain}"));
        let named = (core && plain.eq_ignore_ascii_case(attr))
            || qualified.is_some_and(|q| q.eq_ignore_ascii_case(attr));
        named.then_some(literal.as_str())
    }
}

impl std::str::FromStr for Filter {
    type Err = ScimError;

    fn from_str(text: &str) -> Result<Filter, ScimError> {
        Filter::parse(text)
    }
}

impl fmt::Display for AttrRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl CompareOp {
    /// `gt`, `ge`, `lt`, `le`.
    pub(crate) fn is_ordering(self) -> bool {
        matches!(
            self,
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
        )
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }
}

/// Which grammar was being read, for the error's kind and its first word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    Filter,
    Path,
}

impl Syntax {
    fn label(self) -> &'static str {
        match self {
            Syntax::Filter => "filter",
            Syntax::Path => "path",
        }
    }

    pub(crate) fn kind(self) -> ScimErrorKind {
        match self {
            Syntax::Filter => ScimErrorKind::InvalidFilter,
            Syntax::Path => ScimErrorKind::InvalidPath,
        }
    }

    pub(crate) fn error(self, detail: impl fmt::Display) -> ScimError {
        ScimError::new(self.kind(), format!("{}: {detail}", self.label()))
    }

    pub(crate) fn too_deep(self) -> ScimError {
        self.error(format!("nested more than {MAX_FILTER_DEPTH} levels deep"))
    }
}

pub(crate) fn attr_ref(path: wire::AttrPath) -> AttrRef {
    AttrRef {
        urn: path.uri,
        name: path.name,
        sub: path.sub_attr,
    }
}

/// Warden's filter from the parser's, or `None` when deeper than [`MAX_FILTER_DEPTH`]
/// (the parser's own bound, 64, keeps this recursion short).
fn convert(filter: wire::Filter, depth: usize) -> Option<Filter> {
    if depth > MAX_FILTER_DEPTH {
        return None;
    }
    Some(match filter {
        wire::Filter::Attr(expression) => attr_expression(expression),
        wire::Filter::ValuePath(path) => Filter::ValuePath(
            attr_ref(path.attr),
            Box::new(convert_value_filter(*path.filter, depth + 1)?),
        ),
        wire::Filter::Not(inner) => Filter::Not(Box::new(convert(*inner, depth + 1)?)),
        wire::Filter::And(items) => Filter::And(
            items
                .into_iter()
                .map(|item| convert(item, depth + 1))
                .collect::<Option<_>>()?,
        ),
        wire::Filter::Or(items) => Filter::Or(
            items
                .into_iter()
                .map(|item| convert(item, depth + 1))
                .collect::<Option<_>>()?,
        ),
    })
}

/// A value filter (inside `[…]`) as a [`Filter`] over the sub-attributes of its attribute.
pub(crate) fn convert_value_filter(filter: wire::ValFilter, depth: usize) -> Option<Filter> {
    if depth > MAX_FILTER_DEPTH {
        return None;
    }
    let many = |items: wire::Operands<wire::ValFilter>| {
        items
            .into_iter()
            .map(|item| convert_value_filter(item, depth + 1))
            .collect::<Option<Vec<_>>>()
    };
    Some(match filter {
        wire::ValFilter::Attr(expression) => attr_expression(expression),
        wire::ValFilter::Not(inner) => {
            Filter::Not(Box::new(convert_value_filter(*inner, depth + 1)?))
        }
        wire::ValFilter::And(items) => Filter::And(many(items)?),
        wire::ValFilter::Or(items) => Filter::Or(many(items)?),
    })
}

fn attr_expression(expression: wire::AttrExp) -> Filter {
    match expression {
        wire::AttrExp::Present(path) => Filter::Present(attr_ref(path)),
        wire::AttrExp::Comparison(path, op, value) => {
            let op = match op {
                wire::CompareOp::Eq => CompareOp::Eq,
                wire::CompareOp::Ne => CompareOp::Ne,
                wire::CompareOp::Co => CompareOp::Co,
                wire::CompareOp::Sw => CompareOp::Sw,
                wire::CompareOp::Ew => CompareOp::Ew,
                wire::CompareOp::Gt => CompareOp::Gt,
                wire::CompareOp::Ge => CompareOp::Ge,
                wire::CompareOp::Lt => CompareOp::Lt,
                wire::CompareOp::Le => CompareOp::Le,
            };
            let literal = match value {
                wire::CompValue::Str(text) => Literal::String(text),
                wire::CompValue::Number(number) => Literal::Number(number),
                wire::CompValue::True => Literal::Bool(true),
                wire::CompValue::False => Literal::Bool(false),
                wire::CompValue::Null => Literal::Null,
            };
            Filter::Compare(attr_ref(path), op, literal)
        }
    }
}

const OPERATORS: &str = "eq, ne, co, sw, ew, pr, gt, ge, lt, le";

/// A parse failure of `original` (as the client sent it, before trimming) told so that an
/// IdP administrator can find and fix it: what was found, at which character (counted
/// from 0), and what was expected there.
pub(crate) fn syntax_error(original: &str, error: wire::ParseError, syntax: Syntax) -> ScimError {
    use scim_v2::filter::FilterActionError as Action;
    use wire::ParseError as P;
    let lead = original.len() - original.trim_start().len();
    let body = original.trim();
    let position = |byte: usize| {
        let byte = (byte + lead).min(original.len());
        original
            .char_indices()
            .take_while(|(at, _)| *at < byte)
            .count()
    };
    let detail = match error {
        P::InvalidToken { location } => {
            let at = position(location);
            match body.get(location..).and_then(|rest| rest.chars().next()) {
                Some('"') => format!("unterminated string starting at position {at}"),
                Some('\'') => {
                    format!("strings must be in double quotes (\"…\"), at position {at}")
                }
                Some(c) => format!("unexpected character '{c}' at position {at}"),
                None => format!("unexpected end at position {at}"),
            }
        }
        P::UnrecognizedEof { location, expected } => {
            let wanted = if expected.iter().any(|e| e == "\"eq\"") {
                format!("an operator ({OPERATORS})")
            } else {
                describe(&expected)
            };
            format!("ends too early at position {}; expected {wanted}", position(location))
        }
        P::UnrecognizedToken {
            token: (start, text, end),
            expected,
        } => {
            let skipped = text.len() - text.trim_start().len();
            let at = position(start + skipped);
            let found = text.trim();
            let quoted = echo(found);
            let at_end = body.get(end..).is_some_and(|rest| rest.trim().is_empty());
            let expects = |name: &str| expected.iter().any(|e| e.trim_matches('"') == name);
            let is_operator = OPERATORS
                .split(", ")
                .any(|op| op.eq_ignore_ascii_case(found));
            let is_keyword = ["and", "or", "not"]
                .iter()
                .any(|k| k.eq_ignore_ascii_case(found));
            if expects("eq") && is_operator {
                format!("operator '{quoted}' at position {at} must be followed by a space and a value")
            } else if expects("eq") && found == "(" && preceded_by_not(body, start) {
                format!("'not' must be followed by a space before '(' at position {at}")
            } else if expects("eq") && found.chars().all(|c| c.is_ascii_alphanumeric()) {
                format!("unknown operator '{quoted}' at position {at}; expected {OPERATORS}")
            } else if expects("eq") {
                format!("expected an operator ({OPERATORS}) at position {at}, found '{quoted}'")
            } else if expects("StringLit") {
                format!("invalid value '{quoted}' at position {at}; expected a string in double quotes, a number, true, false or null")
            } else if is_keyword && at_end {
                format!("ends after '{quoted}' at position {at}; expected an expression")
            } else if found == "." && body.get(..start).is_some_and(|b| b.ends_with(']')) {
                format!("'.' after [...] at position {at}: a filter names sub-attributes inside the brackets, as in emails[type eq \"work\" and value co \"@example.com\"]")
            } else if (found == ")" || found == "]") && !expects(found) {
                format!("unbalanced '{quoted}' at position {at}")
            } else {
                format!(
                    "unexpected '{quoted}' at position {at}; expected {}",
                    describe(&expected)
                )
            }
        }
        P::ExtraToken {
            token: (start, text, _),
        } => format!(
            "unexpected '{}' at position {} after a complete expression",
            echo(text.trim()),
            position(start)
        ),
        P::User { error } => match error {
            Action::InvalidAttrPath(path) => format!(
                "attribute path '{}' has more than one sub-attribute (at most one, as in name.givenName)",
                echo(&path)
            ),
            Action::InvalidAttrName(path) => format!(
                "'{}' is not an attribute name (a letter, then letters, digits, '-' or '_')",
                echo(&path)
            ),
            Action::InvalidCompValue(_) => {
                "a string value has an invalid escape (JSON escapes only: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)".to_string()
            }
            Action::DepthExceeded(_) => format!("nested more than {MAX_FILTER_DEPTH} levels deep"),
            Action::TooManyTerms(_) => {
                format!("has more than {} expressions", wire::MAX_FILTER_TERMS)
            }
            other => echo(&other.to_string()),
        },
    };
    syntax.error(detail)
}

/// Whether the token starting at byte `start` of `body` directly follows the word `not`.
fn preceded_by_not(body: &str, start: usize) -> bool {
    body.get(..start)
        .map(str::trim_end)
        .and_then(|before| before.get(before.len().saturating_sub(3)..))
        .is_some_and(|word| word.eq_ignore_ascii_case("not"))
}

/// The parser's expected-token names in words: `"eq"` → eq, `StringLit` → a string, ….
fn describe(expected: &[String]) -> String {
    let mut words: Vec<String> = Vec::new();
    for name in expected {
        let word = match name.as_str() {
            "StringLit" => "a string in double quotes".to_string(),
            "NumberLit" => "a number".to_string(),
            "AttrNameTok" | "AttrPathTok" => "an attribute name".to_string(),
            quoted => {
                let bare = quoted.trim_matches('"');
                if bare.chars().all(|c| c.is_ascii_alphabetic()) {
                    bare.to_string()
                } else {
                    format!("'{bare}'")
                }
            }
        };
        if !words.contains(&word) {
            words.push(word);
        }
    }
    // The parser's table lists `or` alone where `and` is as welcome (one LR state serves
    // both precedence levels).
    if let Some(at) = words.iter().position(|w| w == "or") {
        if !words.iter().any(|w| w == "and") {
            words.insert(at, "and".to_string());
        }
    }
    if words.is_empty() {
        "nothing more".to_string()
    } else {
        words.join(", ")
    }
}

/// Where an attribute name is looked up: the resource (its schema) or an element of a
/// multi-valued or complex attribute (its sub-attributes; `None` when schemaless).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope<'s> {
    Resource(&'s ResourceSchema),
    Element(Option<&'static AttributeSchema>),
}

/// The schema of the attribute `reference` names from `scope`: `Ok(None)` when it is
/// schemaless (under an extension URN, or inside schemaless data), an error when the
/// schema does not know it.
pub(crate) fn resolve_schema(
    reference: &AttrRef,
    scope: &Scope<'_>,
    syntax: Syntax,
) -> Result<Option<&'static AttributeSchema>, ScimError> {
    let attribute = match scope {
        Scope::Resource(schema) => match reference.urn.as_deref() {
            Some(urn) if !schema.is_core_urn(urn) => {
                if urn
                    .get(..CORE_URN_PREFIX.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(CORE_URN_PREFIX))
                {
                    return Err(syntax.error(format!(
                        "'{}' names another core schema than the {}'s ({})",
                        echo(urn),
                        schema.resource_type,
                        schema.core_urn
                    )));
                }
                return Ok(None);
            }
            _ => match schema.attribute(&reference.name) {
                Some(attribute) => attribute,
                None => {
                    let names = schema.attributes.iter().map(|a| a.name);
                    return Err(syntax.error(format!(
                        "unknown attribute '{}' of a {}{}",
                        echo(&reference.name),
                        schema.resource_type,
                        crate::suggest::hint(&crate::suggest::closest(&reference.name, names))
                    )));
                }
            },
        },
        Scope::Element(None) => return Ok(None),
        Scope::Element(Some(parent)) => {
            if let Some(urn) = &reference.urn {
                return Err(syntax.error(format!(
                    "'{}' inside [...] must name a sub-attribute of '{}' without a schema URN",
                    echo(urn),
                    parent.name
                )));
            }
            sub_attribute_of(
                parent,
                &reference.name,
                syntax,
                parent.sub_attributes.is_empty(),
            )?
        }
    };
    match &reference.sub {
        None => Ok(Some(attribute)),
        Some(sub) => sub_attribute_of(attribute, sub, syntax, false).map(Some),
    }
}

/// `parent`'s sub-attribute `name`; a simple multi-valued attribute's elements are called
/// `value` (`schemas[value eq "…"]`), and stand for themselves.
fn sub_attribute_of(
    parent: &'static AttributeSchema,
    name: &str,
    syntax: Syntax,
    simple_elements: bool,
) -> Result<&'static AttributeSchema, ScimError> {
    if simple_elements && name.eq_ignore_ascii_case("value") {
        return Ok(parent);
    }
    if parent.ty != AttrType::Complex {
        return Err(syntax.error(format!(
            "'{}' has no sub-attributes, so '{}.{}' names nothing",
            parent.name,
            parent.name,
            echo(name)
        )));
    }
    parent.sub_attribute(name).ok_or_else(|| {
        let names = parent.sub_attributes.iter().map(|a| a.name);
        syntax.error(format!(
            "unknown sub-attribute '{}' of '{}'{}",
            echo(name),
            parent.name,
            crate::suggest::hint(&crate::suggest::closest(name, names))
        ))
    })
}

pub(crate) fn check(filter: &Filter, scope: &Scope<'_>, syntax: Syntax) -> Result<(), ScimError> {
    match filter {
        Filter::Present(reference) => resolve_schema(reference, scope, syntax).map(|_| ()),
        Filter::Compare(reference, op, literal) => {
            let attribute = resolve_schema(reference, scope, syntax)?;
            check_comparison(reference, *op, literal, attribute, syntax)
        }
        Filter::ValuePath(reference, inner) => {
            let attribute = resolve_schema(reference, scope, syntax)?;
            if let Some(attribute) = attribute {
                let reference = echo(&reference.to_string());
                if !attribute.multi_valued && attribute.ty != AttrType::Complex {
                    return Err(syntax.error(format!(
                        "'{reference}' is a single value; [...] selects values of a multi-valued or complex attribute"
                    )));
                }
            }
            check(inner, &Scope::Element(attribute), syntax)
        }
        Filter::Not(inner) => check(inner, scope, syntax),
        Filter::And(items) | Filter::Or(items) => {
            items.iter().try_for_each(|item| check(item, scope, syntax))
        }
    }
}

fn check_comparison(
    reference: &AttrRef,
    op: CompareOp,
    literal: &Literal,
    attribute: Option<&'static AttributeSchema>,
    syntax: Syntax,
) -> Result<(), ScimError> {
    let op_name = op.as_str();
    let reference = echo(&reference.to_string());
    if op.is_ordering() && matches!(literal, Literal::Bool(_) | Literal::Null) {
        return Err(syntax.error(format!(
            "'{op_name}' orders strings, numbers and dates; it cannot compare '{reference}' with true, false or null"
        )));
    }
    if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
        && !matches!(literal, Literal::String(_))
    {
        return Err(syntax.error(format!(
            "'{op_name}' compares strings; '{reference} {op_name}' needs a value in double quotes"
        )));
    }
    let Some(attribute) = attribute else {
        return Ok(());
    };
    // A complex attribute compared without a sub-attribute stands for its `value`.
    let compared = match attribute.ty {
        AttrType::Complex => attribute.value_sub_attribute().ok_or_else(|| {
            syntax.error(format!(
                "'{reference}' is complex; compare one of its sub-attributes ({})",
                attribute
                    .sub_attributes
                    .iter()
                    .map(|s| format!("{reference}.{}", s.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?,
        _ => attribute,
    };
    if op.is_ordering() && matches!(compared.ty, AttrType::Boolean | AttrType::Binary) {
        return Err(syntax.error(format!(
            "'{op_name}' cannot order '{reference}', which is {}; use eq or ne",
            if compared.ty == AttrType::Boolean {
                "a boolean"
            } else {
                "binary"
            }
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
