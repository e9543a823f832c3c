//! The OpenAPI document is generated from the code, and it is true: every documented route is
//! called against a running server, and its status and response shape are checked against
//! what the document says.

mod common;

use common::*;
use plaint_serve::ServeConfig;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_answers_as_documented() {
    let (server, cmds) = TestServer::start(20, ServeConfig::default()).await;
    let id = cmds[0].complaint_id.to_string();
    let (status, doc) = server.get_json("/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    for expected in [
        "/v1/commands",
        "/v1/tickets",
        "/v1/tickets/{id}",
        "/v1/tickets/{id}/history",
        "/v1/tickets/{id}/sla",
        "/v1/audit",
        "/v1/sla",
        "/v1/sla/at-risk",
        "/v1/queue",
        "/v1/repeats",
        "/v1/reports/{kind}",
        "/v1/stats",
        "/v1/verify",
        "/v1/events",
        "/v1/openapi.json",
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/tokens",
        "/v1/tokens/{token}/revoke",
    ] {
        assert!(paths.contains_key(expected), "{expected} is not documented");
    }
    // A token for the revoke route to revoke.
    let r = server
        .client
        .post(server.url("/v1/tokens"))
        .json(&serde_json::json!({"role": "analyst", "name": "openapi-revoked"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let mut called = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let url = path
                .replace("{id}", &id)
                .replace("{kind}", "weekly")
                .replace("{token}", "openapi-revoked");
            let request = match method.as_str() {
                "get" if path == "/v1/events" => server.client.get(server.url(&format!("{url}?from=1"))),
                "get" => server.client.get(server.url(&url)),
                "post" if path == "/v1/tokens" => server
                    .client
                    .post(server.url(&url))
                    .json(&serde_json::json!({"role": "intake", "name": "openapi-created"})),
                "post" if path == "/v1/tokens/{token}/revoke" => server
                    .client
                    .post(server.url(&url))
                    .json(&serde_json::json!({"reason": "openapi test"})),
                "post" => {
                    let n = called;
                    server
                        .client
                        .post(server.url(&url))
                        .json(&receive(&format!("openapi-{n}"), &format!("CMP-OPENAPI-{n}")))
                }
                other => panic!("{path}: method {other} has no test call"),
            };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16().to_string();
            let documented = &op["responses"][&status];
            assert!(
                documented.is_object(),
                "{method} {path} answered {status}, which is not documented"
            );
            assert!(status.starts_with('2'), "{method} {path} answered {status}");
            let ct = content_type(&response);
            let content = documented["content"].as_object().unwrap();
            let (media, spec) = content
                .iter()
                .find(|(media, _)| ct.starts_with(media.as_str()))
                .unwrap_or_else(|| panic!("{method} {path}: content type {ct} is not documented ({content:?})"));
            let schema = &spec["schema"];
            match media.as_str() {
                "application/json" => {
                    let body: Value = response.json().await.unwrap();
                    validate(&doc, schema, &body, &format!("{method} {path}"));
                }
                "text/event-stream" => {
                    let mut sse = Sse::new(response);
                    let ev = sse.next().await.unwrap();
                    let data: Value = serde_json::from_str(&ev.data).unwrap();
                    assert_eq!(data["position"], 1);
                }
                _ => {
                    let text = response.text().await.unwrap();
                    validate(&doc, schema, &Value::String(text), &format!("{method} {path}"));
                }
            }
            called += 1;
        }
    }
    assert!(called >= 21);
    server.stop().await;
}

/// Checks `value` against the JSON Schema `schema` of `doc` (the parts utoipa writes: `$ref`,
/// `type` (one or several), `properties`, `required`, `items`, `oneOf`/`anyOf`/`allOf`).
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str) {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.strip_prefix("#/components/schemas/").unwrap();
        return validate(doc, &doc["components"]["schemas"][name], value, at);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            let fits = options.iter().any(|s| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| validate(doc, s, value, at))).is_ok()
            });
            assert!(fits, "{at}: {value} fits none of {key} {schema}");
            return;
        }
    }
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            validate(doc, s, value, at);
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() {
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_u64() || n.is_i64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let ok = types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
        assert!(ok, "{at}: {value} is {actual}, the document says {types:?}");
    }
    if let (Some(props), Value::Object(map)) = (schema["properties"].as_object(), value) {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap();
            assert!(map.contains_key(name), "{at}: required {name} missing from {value}");
        }
        for (name, s) in props {
            if let Some(v) = map.get(name) {
                validate(doc, s, v, &format!("{at}.{name}"));
            }
        }
    }
    if let (Some(items), Value::Array(values)) = (schema.get("items"), value) {
        for (i, v) in values.iter().enumerate() {
            validate(doc, items, v, &format!("{at}[{i}]"));
        }
    }
}
