//! `cl_status --json` output of our binary against our ApiServer, validated
//! against the documented schema docs/cl_status-json.schema.json.
//!
//! The validator below implements the keywords that schema uses (`type`,
//! `required`, `properties`, `additionalProperties`, `items`, `enum`,
//! `minimum`) and refuses any other keyword, so the schema cannot grow a
//! rule this test silently ignores.

mod control_common;

use control_common::{authz, lab_view, our_cl_status, TestServer};
use heartbeat_rs::control::from_core::core_counters;
use heartbeat_rs::control::GroupView;
use heartbeat_rs::core::Counters;
use serde_json::Value;

/// Keywords that only describe (no validation meaning).
const ANNOTATIONS: &[&str] = &["$schema", "$id", "title", "description"];

fn schema() -> Value {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cl_status-json.schema.json");
    let text = std::fs::read_to_string(&path).expect("read schema");
    serde_json::from_str(&text).expect("schema is JSON")
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        other => panic!("schema uses unknown type {other}"),
    }
}

/// Every violation of `schema` by `value`, each prefixed by its JSON path.
fn validate(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(rules) = schema.as_object() else {
        panic!("schema at {path} is not an object");
    };
    for (keyword, rule) in rules {
        match keyword.as_str() {
            k if ANNOTATIONS.contains(&k) => {}
            "type" => {
                let names: Vec<&str> = match rule {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                    _ => panic!("bad type rule at {path}"),
                };
                if !names.iter().any(|n| type_matches(n, value)) {
                    errors.push(format!("{path}: {value} is not of type {names:?}"));
                }
            }
            "required" => {
                if let Some(obj) = value.as_object() {
                    for name in rule.as_array().expect("required is an array") {
                        let name = name.as_str().expect("required names are strings");
                        if !obj.contains_key(name) {
                            errors.push(format!("{path}: required field {name} missing"));
                        }
                    }
                }
            }
            "properties" => {
                if let Some(obj) = value.as_object() {
                    let props = rule.as_object().expect("properties is an object");
                    for (name, sub) in props {
                        if let Some(v) = obj.get(name) {
                            validate(sub, v, &format!("{path}.{name}"), errors);
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(obj) = value.as_object() {
                    let known = rules.get("properties").and_then(Value::as_object);
                    for (name, v) in obj {
                        if known.is_some_and(|k| k.contains_key(name)) {
                            continue;
                        }
                        match rule {
                            Value::Bool(false) => {
                                errors.push(format!("{path}: unexpected field {name}"))
                            }
                            Value::Bool(true) => {}
                            sub => validate(sub, v, &format!("{path}.{name}"), errors),
                        }
                    }
                }
            }
            "items" => {
                if let Some(items) = value.as_array() {
                    for (i, v) in items.iter().enumerate() {
                        validate(rule, v, &format!("{path}[{i}]"), errors);
                    }
                }
            }
            "enum" => {
                let allowed = rule.as_array().expect("enum is an array");
                if !allowed.contains(value) {
                    errors.push(format!("{path}: {value} not one of {rule}"));
                }
            }
            "minimum" => {
                let min = rule.as_f64().expect("minimum is a number");
                if value.as_f64().is_some_and(|v| v < min) {
                    errors.push(format!("{path}: {value} < {min}"));
                }
            }
            other => panic!("schema keyword {other} at {path} is not supported by this test"),
        }
    }
}

fn violations(value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    validate(&schema(), value, "$", &mut errors);
    errors
}

fn served_json() -> Value {
    let mut view = lab_view("both-active");
    view.pid = Some(4242);
    view.uptime_secs = Some(99);
    view.counters = core_counters(&Counters {
        late_heartbeats: 3,
        sent: 17,
        ..Counters::default()
    });
    view.counters.push(("auth_failures".into(), 2));
    if let Some(link) = view
        .nodes
        .iter_mut()
        .find(|n| n.name == "bravo")
        .and_then(|n| n.links.first_mut())
    {
        link.last_heard_ms = Some(420);
    }
    view.groups.push(GroupView {
        key: "labsvc".into(),
        node: "alpha".into(),
        state: "running".into(),
    });
    let server = TestServer::start(view, authz(false));
    let run = our_cl_status(&server.path, &["--json"]);
    server.stop();
    assert_eq!(run.rc, 0, "{run:?}");
    assert_eq!(run.err, "");
    serde_json::from_str(&run.out).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", run.out))
}

#[test]
fn json_output_matches_the_documented_schema() {
    let doc = served_json();
    let errors = violations(&doc);
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");

    let bravo_eth0 = &doc["nodes"][1]["links"][0];
    assert_eq!(doc["nodes"][1]["name"], "bravo");
    assert_eq!(bravo_eth0["name"], "eth0");
    assert_eq!(bravo_eth0["last_heard_ms"], 420);
    // Never heard: null, not absent.
    assert_eq!(doc["nodes"][0]["links"][0]["last_heard_ms"], Value::Null);
    assert_eq!(doc["counters"]["late_heartbeats"], 3);
    assert_eq!(doc["counters"]["auth_failures"], 2);
    assert_eq!(doc["counters"]["dropped_replay"], 0);
    assert_eq!(doc["groups"][0]["state"], "running");
    assert_eq!(doc["uptime_seconds"], 99);
}

/// A way to break a valid document.
type Breakage = fn(&mut Value);

#[test]
fn the_validator_catches_violations() {
    let good = served_json();
    let cases: [(&str, Breakage); 5] = [
        ("required field version", |d| {
            d.as_object_mut().map(|o| o.remove("version"));
        }),
        ("not one of", |d| d["resources_held"] = "some".into()),
        ("is not of type", |d| {
            d["nodes"][1]["links"][0]["last_heard_ms"] = "soon".into()
        }),
        ("unexpected field", |d| d["extra"] = 1.into()),
        ("< 0", |d| d["counters"]["sent"] = (-1).into()),
    ];
    for (want, edit) in cases {
        let mut doc = good.clone();
        edit(&mut doc);
        let errors = violations(&doc);
        assert!(
            errors.iter().any(|e| e.contains(want)),
            "{want}: {errors:?}"
        );
    }
}
