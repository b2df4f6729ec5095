//! A small namespace-aware walk over an untrusted XML document (quick-xml, already in the
//! tree through samael), for what samael does not tell: how many assertions a response
//! holds, its Destination and Status before any signature is checked, and IdP metadata.
//!
//! Refused outright: a DOCTYPE (no DTDs, so no entity expansion), entities other than XML's
//! five and character references, more than one root, nesting deeper than [`MAX_DEPTH`].

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use quick_xml::XmlVersion;

pub(crate) const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub(crate) const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub(crate) const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
pub(crate) const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// Deeper than any SAML document; libxml2 (which samael uses) stops at 256.
pub(crate) const MAX_DEPTH: usize = 64;

/// One step of the walk.
pub(crate) enum Node<'a> {
    /// An element opens (an empty element opens and then closes).
    Open {
        namespace: Option<&'a str>,
        local: &'a str,
        /// Attributes as written (`Destination`, `xsi:type`), values unescaped; namespace
        /// declarations are left out.
        attributes: &'a [(String, String)],
    },
    /// The innermost open element closes.
    Close,
    /// Character data (text, CDATA, or a resolved reference), in pieces.
    Text(&'a str),
}

/// Looks up an unprefixed attribute.
pub(crate) fn attribute<'a>(attributes: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Walks `xml`, calling `visit` for each node. Errors are reasons, for the caller to wrap.
pub(crate) fn walk(
    xml: &str,
    visit: &mut dyn FnMut(Node<'_>) -> Result<(), String>,
) -> Result<(), String> {
    let mut reader = NsReader::from_str(xml);
    let mut depth = 0usize;
    let mut root_seen = false;
    loop {
        let (namespace, event) = reader
            .read_resolved_event()
            .map_err(|e| format!("not well-formed XML ({e})"))?;
        match event {
            Event::Start(start) => {
                depth = enter(depth, &mut root_seen)?;
                open(&namespace, &start, visit)?;
            }
            Event::Empty(start) => {
                enter(depth, &mut root_seen)?;
                open(&namespace, &start, visit)?;
                visit(Node::Close)?;
            }
            Event::End(_) => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| "an end tag without a start".to_string())?;
                visit(Node::Close)?;
            }
            Event::Text(text) => {
                let text = text
                    .xml10_content()
                    .map_err(|e| format!("bad text ({e})"))?;
                if depth == 0 {
                    if !text.trim().is_empty() {
                        return Err("text outside the root element".to_string());
                    }
                } else {
                    visit(Node::Text(&text))?;
                }
            }
            Event::CData(cdata) => {
                if depth == 0 {
                    return Err("CDATA outside the root element".to_string());
                }
                let text = cdata.decode().map_err(|e| format!("bad CDATA ({e})"))?;
                visit(Node::Text(&text))?;
            }
            Event::GeneralRef(reference) => {
                if depth == 0 {
                    return Err("a reference outside the root element".to_string());
                }
                if let Some(ch) = reference
                    .resolve_char_ref()
                    .map_err(|e| format!("bad character reference ({e})"))?
                {
                    let mut buffer = [0u8; 4];
                    visit(Node::Text(ch.encode_utf8(&mut buffer)))?;
                } else {
                    let name = reference
                        .decode()
                        .map_err(|e| format!("bad entity reference ({e})"))?;
                    let text = resolve_predefined_entity(&name)
                        .ok_or_else(|| "an entity other than XML's predefined ones".to_string())?;
                    visit(Node::Text(text))?;
                }
            }
            Event::DocType(_) => {
                return Err("a DOCTYPE (DTDs are not allowed in SAML messages)".to_string())
            }
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !root_seen {
        return Err("no root element".to_string());
    }
    if depth != 0 {
        return Err("the document ends inside an element".to_string());
    }
    Ok(())
}

/// One level deeper: refuses a second root and excessive nesting.
fn enter(depth: usize, root_seen: &mut bool) -> Result<usize, String> {
    if depth == 0 && *root_seen {
        return Err("more than one root element".to_string());
    }
    *root_seen = true;
    let depth = depth + 1;
    if depth > MAX_DEPTH {
        return Err(format!("elements nested deeper than {MAX_DEPTH}"));
    }
    Ok(depth)
}

/// An opening element, for `visit`.
fn open(
    namespace: &ResolveResult<'_>,
    start: &BytesStart<'_>,
    visit: &mut dyn FnMut(Node<'_>) -> Result<(), String>,
) -> Result<(), String> {
    let namespace = match namespace {
        ResolveResult::Bound(ns) => Some(
            std::str::from_utf8(ns.as_ref())
                .map_err(|_| "a namespace name is not UTF-8".to_string())?,
        ),
        ResolveResult::Unbound => None,
        ResolveResult::Unknown(_) => {
            return Err("an element uses an undeclared namespace prefix".to_string())
        }
    };
    let local_name = start.local_name();
    let local = std::str::from_utf8(local_name.as_ref())
        .map_err(|_| "an element name is not UTF-8".to_string())?;
    let mut attributes = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("bad attribute ({e})"))?;
        let key = std::str::from_utf8(attr.key.as_ref())
            .map_err(|_| "an attribute name is not UTF-8".to_string())?;
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| format!("bad attribute value ({e})"))?;
        attributes.push((key.to_string(), value.into_owned()));
    }
    visit(Node::Open {
        namespace,
        local,
        attributes: &attributes,
    })
}

/// An element on the walk's stack: namespace and local name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    pub namespace: Option<String>,
    pub local: String,
}

impl Name {
    pub(crate) fn is(&self, namespace: &str, local: &str) -> bool {
        self.namespace.as_deref() == Some(namespace) && self.local == local
    }
}

/// What verification needs to know about a response before (and besides) its signatures.
/// Nothing here is trusted to ACCEPT anything: it only refuses, or explains a refusal.
#[derive(Debug, Default)]
pub(crate) struct ResponseOutline {
    pub destination: Option<String>,
    pub in_response_to: Option<String>,
    pub issuer: Option<String>,
    pub status: Option<String>,
    pub sub_status: Option<String>,
    pub status_message: Option<String>,
    /// Elements named `Assertion`, in any namespace, anywhere.
    pub assertions: usize,
    /// Elements named `EncryptedAssertion`, in any namespace, anywhere.
    pub encrypted_assertions: usize,
    /// `ds:Signature` elements anywhere.
    pub signatures: usize,
}

/// Reads the outline of a response document; the root must be a SAML 2.0 protocol Response.
pub(crate) fn response_outline(xml: &str) -> Result<ResponseOutline, String> {
    let mut outline = ResponseOutline::default();
    let mut stack: Vec<Name> = Vec::new();
    let mut issuer_text: Option<String> = None;
    let mut message_text: Option<String> = None;
    walk(xml, &mut |node| {
        match node {
            Node::Open {
                namespace,
                local,
                attributes,
            } => {
                let name = Name {
                    namespace: namespace.map(str::to_string),
                    local: local.to_string(),
                };
                match stack.as_slice() {
                    [] => {
                        if !name.is(NS_PROTOCOL, "Response") {
                            return Err(
                                "the root element is not a SAML 2.0 protocol Response".to_string()
                            );
                        }
                        outline.destination = attribute(attributes, "Destination").map(Into::into);
                        outline.in_response_to =
                            attribute(attributes, "InResponseTo").map(Into::into);
                    }
                    [_root] if name.is(NS_ASSERTION, "Issuer") => {
                        if issuer_text.is_some() {
                            return Err("the Response has more than one Issuer".to_string());
                        }
                        issuer_text = Some(String::new());
                    }
                    [_root, status] if status.is(NS_PROTOCOL, "Status") => {
                        if name.is(NS_PROTOCOL, "StatusCode") {
                            if outline.status.is_some() {
                                return Err("the Status has more than one StatusCode".to_string());
                            }
                            outline.status = Some(
                                attribute(attributes, "Value")
                                    .ok_or_else(|| "a StatusCode without a Value".to_string())?
                                    .to_string(),
                            );
                        } else if name.is(NS_PROTOCOL, "StatusMessage") {
                            message_text = Some(String::new());
                        }
                    }
                    [_root, status, code]
                        if status.is(NS_PROTOCOL, "Status")
                            && code.is(NS_PROTOCOL, "StatusCode")
                            && name.is(NS_PROTOCOL, "StatusCode")
                            && outline.sub_status.is_none() =>
                    {
                        outline.sub_status = attribute(attributes, "Value").map(Into::into);
                    }
                    _ => {}
                }
                if name.local == "Assertion" {
                    outline.assertions += 1;
                } else if name.local == "EncryptedAssertion" {
                    outline.encrypted_assertions += 1;
                } else if name.is(NS_DSIG, "Signature") {
                    outline.signatures += 1;
                }
                stack.push(name);
            }
            Node::Close => {
                stack.pop();
            }
            Node::Text(text) => match stack.as_slice() {
                [_root, issuer] if issuer.is(NS_ASSERTION, "Issuer") => {
                    if let Some(buffer) = issuer_text.as_mut() {
                        buffer.push_str(text);
                    }
                }
                [_root, status, message]
                    if status.is(NS_PROTOCOL, "Status")
                        && message.is(NS_PROTOCOL, "StatusMessage") =>
                {
                    if let Some(buffer) = message_text.as_mut() {
                        buffer.push_str(text);
                    }
                }
                _ => {}
            },
        }
        Ok(())
    })?;
    outline.issuer = issuer_text.map(|text| text.trim().to_string());
    outline.status_message = message_text.map(|text| text.trim().to_string());
    Ok(outline)
}
