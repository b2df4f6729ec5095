//! The OpenAPI document is the contract: it states what the server does.

use serde_json::Value;

use crate::common::Server;

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.clone(), path.clone(), op));
        }
    }
    out
}

#[tokio::test]
async fn every_error_is_documented_as_a_problem_document() {
    let s = Server::start().await;
    let doc = s.admin_client.openapi().await.unwrap();
    for (method, path, op) in operations(&doc) {
        if path == "/healthz" || path == "/v1/openapi.json" {
            continue;
        }
        let default = &op["responses"]["default"]["content"];
        assert!(
            default.get("application/problem+json").is_some(),
            "{method} {path}: errors are not documented as problem documents: {default}"
        );
    }
}

#[tokio::test]
async fn parameters_are_where_the_server_reads_them() {
    let s = Server::start().await;
    let doc = s.admin_client.openapi().await.unwrap();
    for (method, path, op) in operations(&doc) {
        for param in op["parameters"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().unwrap();
            let place = param["in"].as_str().unwrap();
            let in_path = path.contains(&format!("{{{name}}}"));
            assert_eq!(
                place == "path",
                in_path,
                "{method} {path}: parameter `{name}` is documented in {place}"
            );
            if place == "path" {
                assert_eq!(param["required"], true);
            }
        }
    }
    let list_users = &doc["paths"]["/v1/users"]["get"]["parameters"][0];
    assert_eq!(list_users["in"], "query");
    assert_eq!(list_users["required"], false);
}

#[tokio::test]
async fn wire_enums_list_their_values_and_bodies_refuse_unknown_fields() {
    let s = Server::start().await;
    let doc = s.admin_client.openapi().await.unwrap();
    let schemas = &doc["components"]["schemas"];
    let values = |name: &str| -> Vec<String> {
        schemas[name]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} is not an enum: {}", schemas[name]))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        values("DenyReason"),
        [
            "no_matching_rule",
            "unknown_principal",
            "principal_inactive",
            "unknown_namespace",
            "namespace_permission_missing"
        ]
    );
    assert_eq!(values("UserStatus"), ["invited", "active", "deactivated"]);
    assert_eq!(
        values("PrincipalKind"),
        ["user", "group", "service_account"]
    );
    assert_eq!(
        values("TokenLifetime"),
        ["1h", "8h", "30d", "90d", "1y", "never"]
    );
    assert_eq!(values("Outcome"), ["allowed", "denied"]);
    for input in [
        "GroupInput",
        "GroupUpdate",
        "PolicyInput",
        "RuleInput",
        "PrincipalInput",
        "NamespaceInput",
        "NamespaceAccessInput",
        "NamespacePermissionsInput",
        "ClusterInput",
        "ClusterUpdate",
        "TokenInput",
        "UserUpdate",
        "OrganizationUpdate",
        "CheckRequest",
        "CheckQuestion",
    ] {
        assert_eq!(
            schemas[input]["additionalProperties"], false,
            "{input} does not refuse unknown fields: {}",
            schemas[input]
        );
    }
    // Lengths and patterns are stated.
    assert_eq!(schemas["GroupInput"]["properties"]["name"]["maxLength"], 63);
    assert!(schemas["GroupInput"]["properties"]["name"]["pattern"].is_string());
    // Names people read exclude the characters the server refuses as invisible, so that a
    // name the schema accepts is one the server accepts.
    for (schema, field) in [
        ("PolicyInput", "name"),
        ("OrganizationUpdate", "name"),
        ("TokenInput", "name"),
        ("UserUpdate", "first_name"),
        ("UserUpdate", "last_name"),
    ] {
        let pattern = schemas[schema]["properties"][field]["pattern"]
            .as_str()
            .unwrap_or_else(|| panic!("{schema}.{field} has no pattern"));
        assert!(
            pattern.contains(warden_core::validate::INVISIBLE_CLASS),
            "{schema}.{field}: {pattern}"
        );
        assert_eq!(schemas[schema]["properties"][field]["maxLength"], 128);
    }
    assert_eq!(
        schemas["PolicyInput"]["properties"]["rules"]["maxItems"],
        1000
    );
    assert_eq!(
        schemas["CheckRequest"]["properties"]["checks"]["maxItems"],
        1000
    );
    // The audit event's changes are documented as what is sent: a list of changes.
    assert_eq!(
        schemas["AuditEvent"]["properties"]["changes"]["type"],
        "array"
    );
}
