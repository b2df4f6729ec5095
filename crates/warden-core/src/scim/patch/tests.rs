use serde_json::{json, Value};

use super::*;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "displayName": "Babs Jensen",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "addresses": [
            {"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood"}
        ],
        "groups": [{"value": "e9e30dba-f08f-4109-8486-d5c6a331660a", "display": "Tour Guides"}],
        "meta": {"resourceType": "User", "lastModified": "2011-05-13T04:42:34Z"}
    })
}

fn group() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
        "displayName": "Tour Guides",
        "members": [
            {"value": "89bb1940-b905-4575-9e7f-6f887cfb368e", "display": "bjensen@example.com"},
            {"value": "902c246b-6245-4190-8e05-00816be7344a", "display": "mpepperidge@example.com"}
        ]
    })
}

fn patch(resource: &Value, body: &str, schema: ResourceSchema) -> Result<Value, ScimError> {
    let request = PatchRequest::from_json(body)?;
    let mut patched = resource.clone();
    let outcome = apply(&mut patched, &request, &schema);
    if outcome.is_err() {
        assert_eq!(&patched, resource, "a refused PATCH changed the resource");
    }
    outcome.map(|()| patched)
}

fn patch_user(body: &str) -> Result<Value, ScimError> {
    patch(&user(), body, ResourceSchema::user())
}

fn patch_group(body: &str) -> Result<Value, ScimError> {
    patch(&group(), body, ResourceSchema::group())
}

fn member_ids(group: &Value) -> Vec<&str> {
    group["members"]
        .as_array()
        .map(|members| {
            members
                .iter()
                .map(|m| m["value"].as_str().unwrap())
                .collect()
        })
        .unwrap_or_default()
}

fn refused(outcome: Result<Value, ScimError>, kind: ScimErrorKind, detail: &str) {
    match outcome {
        Ok(patched) => panic!("accepted: {patched}"),
        Err(error) => {
            assert_eq!(error.kind, kind, "{}", error.detail);
            assert!(
                error.detail.contains(detail),
                "{}\n  want: {detail}",
                error.detail
            );
        }
    }
}

// --- Okta's SCIM 2.0 documentation ---

#[test]
fn okta_deactivates_a_user_without_a_path() {
    let patched = patch_user(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}"#,
    )
    .unwrap();
    assert_eq!(patched["active"], json!(false));
    assert_eq!(patched["userName"], user()["userName"]);
}

#[test]
fn okta_removes_a_member_by_filter() {
    let body = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"]"}]}"#;
    let patched = patch_group(body).unwrap();
    assert_eq!(
        member_ids(&patched),
        ["902c246b-6245-4190-8e05-00816be7344a"]
    );
    // RFC 7644 §3.5.2.2: removing someone who is not a member changes nothing and succeeds.
    let again = patch(&patched, body, ResourceSchema::group()).unwrap();
    assert_eq!(again, patched);
}

#[test]
fn okta_adds_a_member_once() {
    let body = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"23a35c27-23d3-4c03-b4c5-6443c09e7173","display":"test.user@okta.local"}]}]}"#;
    let patched = patch_group(body).unwrap();
    assert_eq!(
        member_ids(&patched),
        [
            "89bb1940-b905-4575-9e7f-6f887cfb368e",
            "902c246b-6245-4190-8e05-00816be7344a",
            "23a35c27-23d3-4c03-b4c5-6443c09e7173"
        ]
    );
    assert_eq!(
        patched["members"][2]["display"],
        json!("test.user@okta.local")
    );
    let again = patch(&patched, body, ResourceSchema::group()).unwrap();
    assert_eq!(again, patched);
}

#[test]
fn okta_renames_a_group_sending_its_id_back() {
    let patched = patch_group(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"id":"abf4dd94-a4c0-4f67-89c9-76b03340cb9b","displayName":"Test SCIMv2"}}]}"#,
    )
    .unwrap();
    assert_eq!(patched["displayName"], json!("Test SCIMv2"));
    assert_eq!(patched["id"], group()["id"]);
    refused(
        patch_group(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"id":"another-id","displayName":"Test SCIMv2"}}]}"#,
        ),
        ScimErrorKind::Mutability,
        "operation 1 (replace): 'id' is readOnly",
    );
}

// --- Microsoft Entra ID's SCIM documentation ---

#[test]
fn entra_disables_a_user_with_a_string_boolean() {
    let patched = patch_user(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}"#,
    )
    .unwrap();
    assert_eq!(patched["active"], json!(false));
    let enabled = patch(
        &patched,
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"True"}]}"#,
        ResourceSchema::user(),
    )
    .unwrap();
    assert_eq!(enabled["active"], json!(true));
}

#[test]
fn entra_adds_a_member_with_a_null_ref() {
    let patched = patch_group(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"}]}]}"#,
    )
    .unwrap();
    assert_eq!(
        patched["members"][2],
        json!({"value": "f648f8d5ea4e4cd38e9c"})
    );
    assert_eq!(patched["members"].as_array().unwrap().len(), 3);
    // The same member again, as Entra ID sends it, is no second member.
    let again = patch_group(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"89bb1940-b905-4575-9e7f-6f887cfb368e"}]}]}"#,
    )
    .unwrap();
    assert_eq!(again, group());
}

#[test]
fn entra_removes_a_member_by_value() {
    let patched = patch_group(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members","value":[{"value":"902c246b-6245-4190-8e05-00816be7344a"}]}]}"#,
    )
    .unwrap();
    assert_eq!(
        member_ids(&patched),
        ["89bb1940-b905-4575-9e7f-6f887cfb368e"]
    );
    let unknown = patch_group(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members","value":[{"value":"not-a-member"}]}]}"#,
    )
    .unwrap();
    assert_eq!(unknown, group());
}

#[test]
fn entra_replaces_the_work_email_and_the_family_name() {
    let patched = patch_user(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}]}"#,
    )
    .unwrap();
    assert_eq!(
        patched["emails"],
        json!([
            {"value": "updatedEmail@microsoft.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ])
    );
    assert_eq!(
        patched["name"],
        json!({"givenName": "Barbara", "familyName": "updatedFamilyName"})
    );
}

#[test]
fn entra_adds_an_external_id() {
    let patched = patch_user(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"externalId","value":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"}]}"#,
    )
    .unwrap();
    assert_eq!(
        patched["externalId"],
        json!("0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef")
    );
}

#[test]
fn entra_adds_through_a_filter_that_matches_nothing_yet() {
    let patched = patch_user(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555 0100"},{"op":"Add","path":"emails[type eq \"work\"].value","value":"babs@example.com"}]}"#,
    )
    .unwrap();
    assert_eq!(
        patched["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1 555 0100"}])
    );
    // The work email exists: it is the one written.
    assert_eq!(patched["emails"][0]["value"], json!("babs@example.com"));
    assert_eq!(patched["emails"].as_array().unwrap().len(), 2);
    refused(
        patch_user(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"phoneNumbers[type co \"mob\"].value","value":"+1 555 0100"}]}"#,
        ),
        ScimErrorKind::NoTarget,
        "does not say what a new value would be",
    );
}

// --- RFC 7644 §3.5.2 ---

#[test]
fn add_without_a_path_appends_and_sets() {
    let patched = patch_user(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":{"emails":[{"value":"babs@jensen.org","type":"home"},{"value":"babs@example.org","type":"other"}],"nickname":"Babs"}}]}"#,
    )
    .unwrap();
    assert_eq!(patched["nickName"], json!("Babs"));
    let emails: Vec<&str> = patched["emails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["bjensen@example.com", "babs@jensen.org", "babs@example.org"]
    );
}

#[test]
fn remove_all_members_then_replace_the_list() {
    let emptied = patch_group(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members"}]}"#,
    )
    .unwrap();
    assert!(emptied.get("members").is_none());
    let replaced = patch_group(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"members","value":[{"display":"James Smith","value":"08e1d05d-121c-4561-8b96-473d93df9210"}]}]}"#,
    )
    .unwrap();
    assert_eq!(
        member_ids(&replaced),
        ["08e1d05d-121c-4561-8b96-473d93df9210"]
    );
}

#[test]
fn replace_a_filtered_value_whole_or_one_sub_attribute() {
    let whole = patch_user(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"addresses[type eq \"work\"]","value":{"type":"work","streetAddress":"911 Universal City Plaza","postalCode":"91608","primary":true}}]}"#,
    )
    .unwrap();
    assert_eq!(
        whole["addresses"],
        json!([{"type": "work", "streetAddress": "911 Universal City Plaza", "postalCode": "91608", "primary": true}])
    );
    let street = patch_user(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"addresses[type eq \"work\"].streetAddress","value":"1010 Broadway Ave"}]}"#,
    )
    .unwrap();
    assert_eq!(
        street["addresses"][0]["streetAddress"],
        json!("1010 Broadway Ave")
    );
    assert_eq!(street["addresses"][0]["locality"], json!("Hollywood"));
}

#[test]
fn remove_filtered_values_and_sub_attributes() {
    let patched = patch_user(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"emails[type eq \"work\" and value ew \"example.com\"]"}]}"#,
    )
    .unwrap();
    assert_eq!(
        patched["emails"],
        json!([{"value": "babs@jensen.org", "type": "home"}])
    );
    let given = patch_user(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"name.givenName"},{"op":"remove","path":"emails[type eq \"home\"].type"}]}"#,
    )
    .unwrap();
    assert_eq!(given["name"], json!({"familyName": "Jensen"}));
    assert_eq!(given["emails"][1], json!({"value": "babs@jensen.org"}));
}

#[test]
fn a_new_primary_value_demotes_the_old_one() {
    let patched = patch_user(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"emails","value":[{"value":"new@example.com","type":"work","primary":"True"}]}]}"#,
    )
    .unwrap();
    assert_eq!(patched["emails"][0]["primary"], json!(false));
    assert_eq!(patched["emails"][2]["primary"], json!(true));
    refused(
        patch_user(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails","value":[{"value":"a@x","primary":true},{"value":"b@x","primary":true}]}]}"#,
        ),
        ScimErrorKind::InvalidValue,
        "at most one value of 'emails' may be primary",
    );
}

#[test]
fn ops_and_names_ignore_case() {
    let patched = patch_user(
        r#"{"SCHEMAS":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"operations":[{"OP":"REPLACE","Path":"DisplayName","Value":"Babs"},{"op":"Add","path":"NAME.GIVENNAME","value":"Barb"}]}"#,
    )
    .unwrap();
    assert_eq!(patched["displayName"], json!("Babs"));
    assert_eq!(patched["name"]["givenName"], json!("Barb"));
    assert!(patched.get("DisplayName").is_none());
}

// --- Extensions ---

#[test]
fn enterprise_extension_attributes_by_urn_path() {
    let body = format!(
        r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{"op":"Add","path":"{ENTERPRISE}:department","value":"Tour Operations"}},{{"op":"Replace","path":"{ENTERPRISE}:manager","value":{{"value":"26118915-6090-4610-87e4-49d8ca9f808d"}}}}]}}"#
    );
    let patched = patch_user(&body).unwrap();
    assert_eq!(
        patched[ENTERPRISE],
        json!({"department": "Tour Operations", "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}})
    );
    assert_eq!(
        patched["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE])
    );
    let body = format!(
        r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{"op":"remove","path":"{ENTERPRISE}:department"}},{{"op":"remove","path":"{ENTERPRISE}:manager.value"}}]}}"#
    );
    let cleared = patch(&patched, &body, ResourceSchema::user()).unwrap();
    assert!(cleared.get(ENTERPRISE).is_none());
    assert_eq!(
        cleared["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
}

#[test]
fn extension_objects_in_a_value_are_kept_as_sent() {
    let body = format!(
        r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{"op":"replace","value":{{"{ENTERPRISE}":{{"employeeNumber":"701984","costCenter":4130}},"urn:example:params:scim:ext:1.0:Badge":{{"level":3,"Colors":["red"]}},"{ENTERPRISE}:division":"Theme Park"}}}}]}}"#
    );
    let patched = patch_user(&body).unwrap();
    assert_eq!(
        patched[ENTERPRISE],
        json!({"employeeNumber": "701984", "costCenter": 4130, "division": "Theme Park"})
    );
    assert_eq!(
        patched["urn:example:params:scim:ext:1.0:Badge"],
        json!({"level": 3, "Colors": ["red"]})
    );
    assert_eq!(patched["schemas"].as_array().unwrap().len(), 3);
    let removed = patch(
        &patched,
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"urn:example:params:scim:ext:1.0:Badge"}]}"#,
        ResourceSchema::user(),
    )
    .unwrap();
    assert!(removed
        .get("urn:example:params:scim:ext:1.0:Badge")
        .is_none());
    assert_eq!(removed["schemas"].as_array().unwrap().len(), 2);
}

// --- Refusals ---

#[test]
fn remove_without_a_path_is_no_target() {
    refused(
        patch_user(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove"}]}"#,
        ),
        ScimErrorKind::NoTarget,
        "operation 1 (remove): remove needs a \"path\"",
    );
}

#[test]
fn unknown_attributes_are_invalid_path() {
    refused(
        patch_user(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"usrName","value":"x"}]}"#,
        ),
        ScimErrorKind::InvalidPath,
        "path: unknown attribute 'usrName' of a User; did you mean `userName`?",
    );
    refused(
        patch_group(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members[valeu eq \"x\"].display","value":"x"}]}"#,
        ),
        ScimErrorKind::InvalidPath,
        "unknown sub-attribute 'valeu' of 'members'; did you mean `value`?",
    );
    refused(
        patch_user(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[type eq \"work\"","value":"x"}]}"#,
        ),
        ScimErrorKind::InvalidPath,
        "path: ends too early",
    );
    refused(
        patch_user(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":{"favoriteColor":"blue"}}]}"#,
        ),
        ScimErrorKind::InvalidValue,
        "operation 1 (add): value: unknown attribute 'favoriteColor' of a User",
    );
}

#[test]
fn a_filter_that_matches_nothing_on_replace_is_no_target() {
    // Without any value yet, the replace is an add (RFC 7644 §3.5.2.3).
    let added = patch_user(r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"phoneNumbers[type eq \"work\"].value","value":"+1 555 0199"}]}"#).unwrap();
    assert_eq!(
        added["phoneNumbers"],
        json!([{"type": "work", "value": "+1 555 0199"}])
    );
    refused(
        patch_user(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[type eq \"other\"].value","value":"x@example.com"}]}"#,
        ),
        ScimErrorKind::NoTarget,
        "no value of 'emails' matches the path's filter",
    );
}

#[test]
fn read_only_immutable_and_required_attributes() {
    let cases = [
        (
            r#"{"op":"replace","path":"id","value":"other"}"#,
            "'id' is readOnly",
        ),
        (r#"{"op":"remove","path":"id"}"#, "'id' is readOnly"),
        (
            r#"{"op":"replace","path":"meta.lastModified","value":"2020-01-01T00:00:00Z"}"#,
            "'meta' is readOnly",
        ),
        (
            r#"{"op":"add","path":"groups","value":[{"value":"x"}]}"#,
            "'groups' is readOnly",
        ),
        (
            r#"{"op":"remove","path":"groups[value eq \"e9e30dba-f08f-4109-8486-d5c6a331660a\"]"}"#,
            "'groups' is readOnly",
        ),
        (
            r#"{"op":"remove","path":"userName"}"#,
            "'userName' is required",
        ),
        (
            r#"{"op":"replace","path":"userName","value":null}"#,
            "'userName' is required",
        ),
    ];
    for (operation, detail) in cases {
        let body = format!(
            r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{operation}]}}"#
        );
        refused(patch_user(&body), ScimErrorKind::Mutability, detail);
    }
    // Sent back unchanged, a readOnly attribute is no change.
    let same = patch_user(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"id","value":"2819c223-7f76-453a-919d-413861904646"},{"op":"replace","path":"meta","value":{"resourceType":"User"}}]}"#,
    )
    .unwrap();
    assert_eq!(same, user());
    refused(
        patch_group(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"].value","value":"someone-else"}]}"#,
        ),
        ScimErrorKind::Mutability,
        "'members.value' is immutable",
    );
    let renamed = patch_group(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"].display","value":"Babs"}]}"#,
    )
    .unwrap();
    assert_eq!(renamed["members"][0]["display"], json!("Babs"));
}

#[test]
fn wrong_value_types_are_invalid_value() {
    let cases = [
        (
            r#"{"op":"replace","path":"active","value":"yes"}"#,
            "'active' takes true or false, not the string \"yes\"",
        ),
        (
            r#"{"op":"replace","path":"userName","value":5}"#,
            "'userName' takes a string, not 5",
        ),
        (
            r#"{"op":"add","path":"emails","value":["x@example.com"]}"#,
            "'emails' takes an object of sub-attributes",
        ),
        (
            r#"{"op":"replace","path":"name","value":"Babs"}"#,
            "'name' takes an object of sub-attributes",
        ),
        (
            r#"{"op":"add","path":"emails","value":[{"address":"x@example.com"}]}"#,
            "'emails' has no sub-attribute 'address'",
        ),
        (
            r#"{"op":"replace","path":"emails[type eq \"work\"].primary","value":"sure"}"#,
            "'emails.primary' takes true or false",
        ),
        (
            r#"{"op":"add","path":"displayName"}"#,
            "add needs a \"value\"",
        ),
        (
            r#"{"op":"replace","value":"Babs"}"#,
            "without a \"path\", the value of replace must be an object",
        ),
    ];
    for (operation, detail) in cases {
        let body = format!(
            r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{operation}]}}"#
        );
        refused(patch_user(&body), ScimErrorKind::InvalidValue, detail);
    }
}

#[test]
fn a_request_is_atomic() {
    refused(
        patch_user(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Changed"},{"op":"replace","path":"id","value":"other"}]}"#,
        ),
        ScimErrorKind::Mutability,
        "operation 2 (replace): 'id' is readOnly",
    );
    let mut resource = user();
    let request = PatchRequest::from_json(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Changed"},{"op":"remove"}]}"#,
    )
    .unwrap();
    assert!(apply(&mut resource, &request, &ResourceSchema::user()).is_err());
    assert_eq!(resource, user());
}

#[test]
fn malformed_requests_are_invalid_syntax() {
    let cases = [
        ("not json", "the PATCH body is not JSON"),
        ("[]", "must be a JSON object"),
        (
            r#"{"Operations":[{"op":"add","value":{}}]}"#,
            "\"schemas\" must be",
        ),
        (
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}"#,
            "must have \"Operations\"",
        ),
        (
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[]}"#,
            "\"Operations\" is empty",
        ),
        (
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"move","path":"a"}]}"#,
            "operation 1: op 'move' is not add, remove or replace",
        ),
        (
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"path":"a"}]}"#,
            "operation 1 has no \"op\"",
        ),
        (
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":5,"value":1}]}"#,
            "\"path\" must be a string",
        ),
        (
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[7]}"#,
            "operation 1 must be a JSON object",
        ),
    ];
    for (body, detail) in cases {
        let error = PatchRequest::from_json(body).unwrap_err();
        assert_eq!(error.kind, ScimErrorKind::InvalidSyntax, "{body}");
        assert!(error.detail.contains(detail), "{body}: {}", error.detail);
    }
    let many = format!(
        r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{}]}}"#,
        vec![r#"{"op":"remove","path":"title"}"#; MAX_OPERATIONS + 1].join(",")
    );
    assert_eq!(
        PatchRequest::from_json(&many).unwrap_err().kind,
        ScimErrorKind::TooMany
    );
    let long_op = format!(
        r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{"op":"{}"}}]}}"#,
        "x".repeat(1000)
    );
    assert!(PatchRequest::from_json(&long_op).unwrap_err().detail.len() < 200);
}

#[test]
fn serde_reads_and_writes_the_wire_form() {
    let request: PatchRequest = serde_json::from_str(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members","value":[{"value":"x"}]}]}"#,
    )
    .unwrap();
    assert_eq!(request.operations[0].op, PatchOp::Remove);
    assert_eq!(request.operations[0].path.as_deref(), Some("members"));
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({"schemas": [PATCH_OP_URN], "Operations": [{"op": "remove", "path": "members", "value": [{"value": "x"}]}]})
    );
    assert!(serde_json::from_str::<PatchRequest>(r#"{"schemas":[],"Operations":[]}"#).is_err());
}

#[test]
fn details_quote_little_of_a_long_request() {
    let long_name = "x".repeat(3000);
    let body = format!(
        r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{"op":"add","path":"urn:example:ext:1.0:Badge:{long_name}","value":"plain"}},{{"op":"add","path":"urn:example:ext:1.0:Badge:{long_name}.sub","value":1}}]}}"#
    );
    let error = patch_user(&body).unwrap_err();
    assert_eq!(error.kind, ScimErrorKind::InvalidPath);
    assert!(
        error.detail.contains("has no sub-attributes"),
        "{}",
        error.detail
    );
    assert!(error.detail.len() < 250, "{}", error.detail);
    let body = format!(
        r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{"op":"add","path":"{long_name}","value":1}}]}}"#
    );
    let error = patch_user(&body).unwrap_err();
    assert_eq!(error.kind, ScimErrorKind::InvalidPath);
    assert!(error.detail.len() < 250, "{}", error.detail);
}
