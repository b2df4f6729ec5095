use serde_json::{json, Value};

use super::*;

fn bjensen() -> Value {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "BJensen-701984",
        "userName": "bjensen",
        "name": {"formatted": "Ms. Barbara J O'Malley", "familyName": "O'Malley", "givenName": "Barbara"},
        "displayName": "Babs Jensen",
        "title": "Tour Guide",
        "userType": "Employee",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "ims": [{"value": "someaimhandle", "type": "aim"}],
        "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34Z"
        },
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984",
            "department": "Tour Operations",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
        }
    })
}

fn jsmith() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "08e1d05d-121c-4561-8b96-473d93df9210",
        "userName": "JSmith",
        "name": {"familyName": "Smith", "givenName": "James"},
        "userType": "Intern",
        "active": false,
        "emails": [{"value": "jsmith@example.org", "type": "work"}],
        "ims": [{"value": "jsmith@foo.com", "type": "xmpp"}],
        "meta": {"resourceType": "User", "lastModified": "2012-01-01T00:00:00Z"}
    })
}

fn contractor() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "c0ffee",
        "userName": "kim",
        "title": "",
        "userType": "Contractor",
        "emails": [
            {"value": "kim@example.net", "type": "work"},
            {"value": "kim@example.com", "type": "home"}
        ]
    })
}

/// Which of bjensen, jsmith and the contractor `filter` matches, after checking it.
fn who(filter: &str) -> [bool; 3] {
    let user = ResourceSchema::user();
    let parsed =
        Filter::parse_for(filter, &user).unwrap_or_else(|e| panic!("{filter}: {}", e.detail));
    [bjensen(), jsmith(), contractor()].map(|resource| parsed.matches(&resource, &user))
}

fn refused(filter: &str) -> ScimError {
    match Filter::parse_for(filter, &ResourceSchema::user()) {
        Ok(parsed) => panic!("{filter} was accepted as {parsed:?}"),
        Err(error) => {
            assert_eq!(error.kind, ScimErrorKind::InvalidFilter, "{filter}");
            assert!(error.detail.starts_with("filter: "), "{}", error.detail);
            error
        }
    }
}

#[test]
fn rfc_7644_example_filters() {
    assert_eq!(who(r#"userName eq "bjensen""#), [true, false, false]);
    assert_eq!(
        who(r#"name.familyName co "O'Malley""#),
        [true, false, false]
    );
    assert_eq!(who(r#"userName sw "J""#), [false, true, false]);
    assert_eq!(
        who(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#),
        [false, true, false]
    );
    assert_eq!(who("title pr"), [true, false, false]);
    assert_eq!(
        who(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#),
        [false, true, false]
    );
    assert_eq!(
        who(r#"meta.lastModified ge "2011-05-13T04:42:34Z""#),
        [true, true, false]
    );
    assert_eq!(
        who(r#"meta.lastModified lt "2011-05-13T04:42:34Z""#),
        [false, false, false]
    );
    assert_eq!(
        who(r#"meta.lastModified le "2011-05-13T04:42:34Z""#),
        [true, false, false]
    );
    assert_eq!(
        who(r#"title pr and userType eq "Employee""#),
        [true, false, false]
    );
    assert_eq!(
        who(r#"title pr or userType eq "Intern""#),
        [true, true, false]
    );
    assert_eq!(
        who(r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#),
        [true, false, false]
    );
    assert_eq!(
        who(
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#
        ),
        [true, false, false]
    );
    assert_eq!(
        who(
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#
        ),
        [false, false, false]
    );
    assert_eq!(
        who(
            r#"userType ne "Employee" and not (emails co "example.biz" or emails.value co "example.org")"#
        ),
        [false, false, true]
    );
    assert_eq!(
        who(r#"userType eq "Employee" and (emails.type eq "work")"#),
        [true, false, false]
    );
    assert_eq!(
        who(r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#),
        [true, false, false]
    );
    assert_eq!(
        who(
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#
        ),
        [true, true, false]
    );
}

#[test]
fn a_value_path_needs_one_element_to_match_all_of_it() {
    // The contractor has a work email and an @example.com email, but not in one element.
    assert_eq!(
        who(r#"emails[type eq "work" and value co "@example.com"]"#),
        [true, false, false]
    );
    assert_eq!(
        who(r#"emails.type eq "work" and emails.value co "@example.com""#),
        [true, false, true]
    );
    assert_eq!(who(r#"emails[not (type eq "work")]"#), [true, false, true]);
    assert_eq!(who(r#"emails[primary eq true]"#), [true, false, false]);
}

#[test]
fn every_operator_matches_and_fails() {
    assert_eq!(who(r#"userName eq "BJENSEN""#), [true, false, false]);
    assert_eq!(who(r#"userName ne "bjensen""#), [false, true, true]);
    assert_eq!(who(r#"displayName co "abs j""#), [true, false, false]);
    assert_eq!(who(r#"displayName sw "babs""#), [true, false, false]);
    assert_eq!(who(r#"displayName ew "JENSEN""#), [true, false, false]);
    assert_eq!(who(r#"displayName ew "Babs""#), [false, false, false]);
    assert_eq!(who("displayName pr"), [true, false, false]);
    assert_eq!(who(r#"userName gt "jsmith""#), [false, false, true]);
    assert_eq!(who(r#"userName ge "jsmith""#), [false, true, true]);
    assert_eq!(who(r#"userName lt "jsmith""#), [true, false, false]);
    assert_eq!(who(r#"userName le "JSMITH""#), [true, true, false]);
    // Operators and attribute names ignore case.
    assert_eq!(who(r#"USERNAME EQ "bjensen""#), [true, false, false]);
    assert_eq!(who(r#"Name.FamilyName Sw "o'""#), [true, false, false]);
}

#[test]
fn case_exactness_follows_the_schema() {
    assert_eq!(
        who(r#"externalId eq "BJensen-701984""#),
        [true, false, false]
    );
    assert_eq!(
        who(r#"externalId eq "bjensen-701984""#),
        [false, false, false]
    );
    assert_eq!(
        who(r#"id eq "2819C223-7F76-453A-919D-413861904646""#),
        [false, false, false]
    );
    assert_eq!(
        who(r#"id eq "2819c223-7f76-453a-919d-413861904646""#),
        [true, false, false]
    );
    assert_eq!(
        who(r#"emails.value eq "BJENSEN@EXAMPLE.COM""#),
        [true, false, false]
    );
}

#[test]
fn booleans_numbers_null_and_dates() {
    assert_eq!(who("active eq true"), [true, false, false]);
    assert_eq!(who("active eq false"), [false, true, false]);
    assert_eq!(who("active ne true"), [false, true, true]);
    assert_eq!(who("title eq null"), [false, true, true]);
    assert_eq!(who("title ne null"), [true, false, false]);
    assert_eq!(who(r#"active eq "true""#), [false, false, false]);
    // dateTime compares instants, whatever the offset.
    assert_eq!(
        who(r#"meta.lastModified eq "2011-05-13T06:42:34+02:00""#),
        [true, false, false]
    );
    let user = ResourceSchema::user();
    let resource = json!({"urn:example:ext:1.0:Badge": {"level": 3, "ratio": 0.5}});
    let matches = |f: &str| {
        Filter::parse_for(f, &user)
            .unwrap()
            .matches(&resource, &user)
    };
    assert!(matches("urn:example:ext:1.0:Badge:level eq 3"));
    assert!(matches("urn:example:ext:1.0:Badge:level gt 2.5"));
    assert!(!matches("urn:example:ext:1.0:Badge:level lt 3"));
    assert!(matches("urn:example:ext:1.0:Badge:ratio le 0.5"));
    assert!(!matches(r#"urn:example:ext:1.0:Badge:level eq "3""#));
}

#[test]
fn extension_attributes_by_urn() {
    let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    assert_eq!(
        who(&format!(r#"{enterprise}:department eq "tour operations""#)),
        [true, false, false]
    );
    assert_eq!(
        who(&format!(r#"{enterprise}:manager.value sw "26118915""#)),
        [true, false, false]
    );
    assert_eq!(
        who(&format!("{enterprise}:costCenter pr")),
        [false, false, false]
    );
}

#[test]
fn precedence_and_grouping() {
    let parsed = Filter::parse("a pr or b pr and c pr").unwrap();
    let present = |name: &str| {
        Filter::Present(AttrRef {
            urn: None,
            name: name.to_string(),
            sub: None,
        })
    };
    assert_eq!(
        parsed,
        Filter::Or(vec![
            present("a"),
            Filter::And(vec![present("b"), present("c")])
        ])
    );
    let grouped = Filter::parse("(a pr or b pr) and c pr").unwrap();
    assert_eq!(
        grouped,
        Filter::And(vec![
            Filter::Or(vec![present("a"), present("b")]),
            present("c")
        ])
    );
    let negated = Filter::parse("not (a pr) and b pr").unwrap();
    assert_eq!(
        negated,
        Filter::And(vec![Filter::Not(Box::new(present("a"))), present("b")])
    );
    // `and` binds tighter: title pr or (userType eq "Intern" and active eq true).
    assert_eq!(
        who(r#"title pr or userType eq "Intern" and active eq true"#),
        [true, false, false]
    );
    assert_eq!(
        who(r#"(title pr or userType eq "Intern") and active eq false"#),
        [false, true, false]
    );
}

#[test]
fn members_value_on_a_group() {
    let group = ResourceSchema::group();
    let engineers = json!({
        "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
        "displayName": "Engineers",
        "members": [
            {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen"},
            {"value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy Pepperidge"}
        ]
    });
    let matches = |f: &str| {
        Filter::parse_for(f, &group)
            .unwrap()
            .matches(&engineers, &group)
    };
    assert!(matches(
        r#"members.value eq "902c246b-6245-4190-8e05-00816be7344a""#
    ));
    assert!(!matches(
        r#"members.value eq "08e1d05d-121c-4561-8b96-473d93df9210""#
    ));
    assert!(matches(r#"members[display sw "mandy"]"#));
    assert!(matches(r#"displayName eq "engineers""#));
    assert!(!matches(r#"displayName eq "Engineer""#));
}

#[test]
fn equality_on_names_the_literal_of_a_whole_equality() {
    let parsed = Filter::parse(r#"userName eq "bjensen@example.com""#).unwrap();
    assert_eq!(parsed.equality_on("userName"), Some("bjensen@example.com"));
    assert_eq!(parsed.equality_on("USERNAME"), Some("bjensen@example.com"));
    assert_eq!(parsed.equality_on("externalId"), None);
    let qualified =
        Filter::parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x""#).unwrap();
    assert_eq!(qualified.equality_on("userName"), Some("x"));
    let dotted = Filter::parse(r#"name.familyName eq "Smith""#).unwrap();
    assert_eq!(dotted.equality_on("name.familyName"), Some("Smith"));
    assert_eq!(dotted.equality_on("name"), None);
    for not_whole in [
        r#"userName ne "x""#,
        r#"userName co "x""#,
        r#"userName eq "x" and active eq true"#,
        r#"not (userName eq "x")"#,
        "userName pr",
        "userName eq null",
    ] {
        assert_eq!(
            Filter::parse(not_whole).unwrap().equality_on("userName"),
            None,
            "{not_whole}"
        );
    }
}

#[test]
fn syntax_errors_say_what_and_where() {
    let cases = [
        (
            r#"userName eqq "bjensen""#,
            "filter: unknown operator 'eqq' at position 9; expected eq, ne, co, sw, ew, pr, gt, ge, lt, le",
        ),
        (
            r#"userName regex "x""#,
            "filter: unknown operator 'regex' at position 9; expected eq, ne, co, sw, ew, pr, gt, ge, lt, le",
        ),
        (
            "userName eq",
            "filter: operator 'eq' at position 9 must be followed by a space and a value",
        ),
        (
            r#"userName eq 'x'"#,
            "filter: strings must be in double quotes (\"…\"), at position 12",
        ),
        (
            r#"userName eq "open"#,
            "filter: unterminated string starting at position 12",
        ),
        (
            "userName eq bjensen",
            "filter: invalid value 'bjensen' at position 12; expected a string in double quotes, a number, true, false or null",
        ),
        ("title pr and", "filter: ends after 'and' at position 9; expected an expression"),
        ("title pr)", "filter: unbalanced ')' at position 8"),
        ("(title pr", "filter: ends too early at position 9; expected and, or, ')'"),
        ("not(title pr)", "filter: 'not' must be followed by a space before '(' at position 3"),
        ("a.b.c pr", "filter: attribute path 'a.b.c' has more than one sub-attribute"),
        (r#"userName eq "a\qb""#, "filter: a string value has an invalid escape"),
        ("   ", "filter: empty"),
        ("  userName eqq 1", "filter: unknown operator 'eqq' at position 11"),
        ("userName", "filter: ends too early at position 8; expected an operator (eq, ne,"),
        (
            r#"emails[type eq "work"].value eq "x""#,
            "filter: '.' after [...] at position 22: a filter names sub-attributes inside the brackets",
        ),
        ("userName eq true $", "filter: unexpected character '$' at position 17"),
    ];
    for (filter, expected) in cases {
        let error = Filter::parse(filter).unwrap_err();
        assert_eq!(error.kind, ScimErrorKind::InvalidFilter, "{filter}");
        assert!(
            error.detail.starts_with(expected),
            "{filter}\n  got:  {}\n  want: {expected}",
            error.detail
        );
    }
}

#[test]
fn untrusted_input_is_bounded() {
    let deep_ok = format!("{}a pr{}", "not (".repeat(31), ")".repeat(31));
    assert!(Filter::parse(&deep_ok).is_ok());
    let too_deep = format!("{}a pr{}", "not (".repeat(32), ")".repeat(32));
    assert!(refused(&too_deep)
        .detail
        .contains("nested more than 32 levels"));
    let very_deep = format!("{}a pr{}", "(".repeat(3000), ")".repeat(3000));
    assert!(refused(&very_deep).detail.contains("4096"));
    let parens = format!("{}a pr{}", "(".repeat(100), ")".repeat(100));
    assert!(refused(&parens)
        .detail
        .contains("nested more than 32 levels"));
    let long = format!(r#"userName eq "{}""#, "x".repeat(MAX_FILTER_LEN));
    assert!(refused(&long).detail.contains("at most 4096"));
    // A long bad token is quoted, but only its first 100 characters.
    let garbage = format!("userName {} \"x\"", "q".repeat(3000));
    let error = refused(&garbage);
    assert!(error.detail.contains(&"q".repeat(100)));
    assert!(!error.detail.contains(&"q".repeat(101)));
    let long_urn = format!("urn:example:ext:1.0:Badge:{} co 5", "y".repeat(3000));
    let error = refused(&long_urn);
    assert!(
        error.detail.contains("'co' compares strings"),
        "{}",
        error.detail
    );
    assert!(error.detail.len() < 300, "{}", error.detail);
    // Nothing panics on odd input.
    for odd in [
        "",
        "(",
        ")",
        "[",
        "]",
        "\"",
        "not",
        "not (",
        "a[",
        "a[b pr",
        "a[b[c pr]]",
        "é eq 1",
        "\u{0}",
    ] {
        assert!(Filter::parse(odd).is_err(), "{odd:?}");
    }
}

#[test]
fn schema_refusals() {
    let cases = [
        (
            r#"usrName eq "x""#,
            "unknown attribute 'usrName' of a User; did you mean `userName`?",
        ),
        (
            r#"name.givenNme eq "x""#,
            "unknown sub-attribute 'givenNme' of 'name'; did you mean `givenName`?",
        ),
        (
            r#"emails[kind eq "work"]"#,
            "unknown sub-attribute 'kind' of 'emails'",
        ),
        ("active gt true", "'gt' orders strings, numbers and dates"),
        (
            r#"active lt "x""#,
            "'lt' cannot order 'active', which is a boolean; use eq or ne",
        ),
        ("userName co 5", "'co' compares strings"),
        (r#"userName[value eq "x"]"#, "'userName' is a single value"),
        (
            r#"addresses co "x""#,
            "'addresses' is complex; compare one of its sub-attributes",
        ),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "x""#,
            "names another core schema",
        ),
    ];
    for (filter, expected) in cases {
        let error = refused(filter);
        assert!(
            error.detail.contains(expected),
            "{filter}: {}",
            error.detail
        );
    }
    // Attributes under an extension are not checked against a schema.
    assert!(Filter::parse_for(
        "urn:example:ext:1.0:Badge:anything pr",
        &ResourceSchema::user()
    )
    .is_ok());
    assert!(Filter::parse_for(r#"members.value eq "x""#, &ResourceSchema::user()).is_err());
    assert!(Filter::parse_for(r#"members.value eq "x""#, &ResourceSchema::group()).is_ok());
}

mod never_panics {
    use proptest::prelude::*;
    use serde_json::json;

    use crate::scim::{apply, Filter, PatchOp, PatchOperation, PatchRequest, ResourceSchema};

    /// Text made mostly of the grammar's own pieces, so that many inputs get deep into it.
    fn filterish() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("userName".to_string()),
            Just("emails".to_string()),
            Just("members".to_string()),
            Just("name.givenName".to_string()),
            Just("urn:ietf:params:scim:schemas:core:2.0:User:userName".to_string()),
            Just("urn:example:ext:1.0:X:a".to_string()),
            Just(" eq ".to_string()),
            Just(" gt ".to_string()),
            Just(" co ".to_string()),
            Just(" pr".to_string()),
            Just(" and ".to_string()),
            Just(" or ".to_string()),
            Just("not ".to_string()),
            Just("(".to_string()),
            Just(")".to_string()),
            Just("[".to_string()),
            Just("]".to_string()),
            Just(".".to_string()),
            Just("\"x\"".to_string()),
            Just("true".to_string()),
            Just("null".to_string()),
            Just("1.5".to_string()),
            "[ -~]{0,3}",
            "\\PC{0,2}",
        ];
        prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn filters_and_paths(text in filterish()) {
            let user = ResourceSchema::user();
            let resource = json!({
                "userName": "x", "emails": [{"value": "x", "type": "work"}],
                "name": {"givenName": "x"}, "urn:example:ext:1.0:X": {"a": [1, "x", null]}
            });
            if let Ok(filter) = Filter::parse(&text) {
                let _ = filter.check(&user);
                let _ = filter.matches(&resource, &user);
                let _ = filter.equality_on("userName");
            }
            for op in [PatchOp::Add, PatchOp::Replace, PatchOp::Remove] {
                let request = PatchRequest {
                    schemas: vec![crate::scim::PATCH_OP_URN.to_string()],
                    operations: vec![PatchOperation {
                        op,
                        path: Some(text.clone()),
                        value: Some(json!([{"value": "y", "type": "home", "primary": "true"}])),
                    }],
                };
                let mut patched = resource.clone();
                if apply(&mut patched, &request, &user).is_err() {
                    prop_assert_eq!(&patched, &resource);
                }
            }
        }
    }
}
