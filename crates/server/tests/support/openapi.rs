//! Checks the requests live mode made (as the Stripe stand-in recorded them), so the
//! stand-in is not the only judge of their shape, at two depths:
//! - always: against `stripe_params.rs`, the parameters of each Stripe operation the client
//!   calls as Stripe's description lists them (by `operationId`, checked by reading the
//!   description; see there which version): every field known, integers and enum values
//!   right, required fields present, metadata within Stripe's limits;
//! - when `MIGHTY_STRIPE_OPENAPI` names a copy of `openapi/spec3.json` from the
//!   `stripe/openapi` repository: against the description itself, every form field walked
//!   through its schemas (nested bracket keys, `anyOf` alternatives, arrays, `metadata`'s
//!   free keys), enum values listed, required fields of each object sent present. The
//!   description is not in this repository (it is Stripe's, and large); `cargo xtask test`
//!   passes it when `target/stripe-openapi/spec3.json` exists.
#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::Value;

use super::stripe::Recorded;

/// The description named by `MIGHTY_STRIPE_OPENAPI`, if any.
pub fn description() -> Option<Value> {
    let path = std::env::var("MIGHTY_STRIPE_OPENAPI")
        .ok()
        .filter(|path| !path.is_empty())?;
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("MIGHTY_STRIPE_OPENAPI={path}: {error}"));
    Some(serde_json::from_str(&text).expect("MIGHTY_STRIPE_OPENAPI is Stripe's spec3.json"))
}

/// Checks `requests` against the table, and against the description when it is there;
/// panics listing every problem.
pub fn check(requests: &[Recorded]) {
    let table: Vec<String> = requests
        .iter()
        .filter_map(|request| {
            super::stripe_params::check(&request.method, &request.path, &request.form)
                .err()
                .map(|problem| format!("{} {}: {problem:?}", request.method, request.path))
        })
        .collect();
    // Every POST carries an Idempotency-Key, so that a retry never makes a second object.
    let table: Vec<String> = table
        .into_iter()
        .chain(
            requests
                .iter()
                .filter(|request| request.method == "POST" && request.idempotency_key.is_none())
                .map(|request| format!("POST {}: no Idempotency-Key", request.path)),
        )
        .collect();
    assert!(
        table.is_empty(),
        "requests outside the parameters Stripe's description lists (stripe_params.rs):\n{}",
        table.join("\n")
    );
    let Some(spec) = description() else {
        return;
    };
    let mut problems = Vec::new();
    let mut checked = 0;
    for request in requests {
        let Some((template, operation)) = operation(&spec, &request.method, &request.path) else {
            problems.push(format!(
                "{} {}: not an operation of this description",
                request.method, request.path
            ));
            continue;
        };
        checked += 1;
        let at = format!("{} {template}", request.method);
        if request.method == "POST" {
            let schema =
                &operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
            let tree = tree(&request.form);
            validate(&spec, schema, &tree, &at, &mut problems);
        } else {
            let names: Vec<&str> = operation["parameters"]
                .as_array()
                .map(|parameters| {
                    parameters
                        .iter()
                        .filter(|parameter| parameter["in"] == "query")
                        .filter_map(|parameter| parameter["name"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            for (key, _) in &request.form {
                let name = key.split('[').next().unwrap_or(key);
                if !names.contains(&name) {
                    problems.push(format!("{at}: unknown query parameter {key}"));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "requests that do not fit Stripe's description ({checked} checked):\n{}",
        problems.join("\n")
    );
    eprintln!("checked {checked} Stripe requests against MIGHTY_STRIPE_OPENAPI");
}

/// The operation of `method path` (`/v1/checkout/sessions/cs_1/expire` matches
/// `/v1/checkout/sessions/{session}/expire`).
fn operation<'a>(spec: &'a Value, method: &str, path: &str) -> Option<(String, &'a Value)> {
    let parts: Vec<&str> = path.split('/').collect();
    spec["paths"]
        .as_object()?
        .iter()
        .find_map(|(template, item)| {
            let pattern: Vec<&str> = template.split('/').collect();
            let fits = pattern.len() == parts.len()
                && pattern
                    .iter()
                    .zip(&parts)
                    .all(|(want, got)| want == got || want.starts_with('{'));
            let operation = item.get(method.to_ascii_lowercase())?;
            fits.then(|| (template.clone(), operation))
        })
}

/// A form as a tree: `a[b][0]=x` is `a → b → 0 → "x"`.
#[derive(Debug)]
enum Node {
    Leaf(String),
    Branch(BTreeMap<String, Node>),
}

fn tree(form: &[(String, String)]) -> Node {
    let mut root = BTreeMap::new();
    for (key, value) in form {
        let mut segments: Vec<String> = Vec::new();
        let (head, rest) = key.split_once('[').unwrap_or((key, ""));
        segments.push(head.to_string());
        for part in rest.split('[') {
            let part = part.trim_end_matches(']');
            if !part.is_empty() {
                segments.push(part.to_string());
            }
        }
        insert(&mut root, &segments, value);
    }
    Node::Branch(root)
}

fn insert(branch: &mut BTreeMap<String, Node>, segments: &[String], value: &str) {
    let (first, rest) = segments.split_first().expect("a key has a name");
    if rest.is_empty() {
        branch.insert(first.clone(), Node::Leaf(value.to_string()));
        return;
    }
    let child = branch
        .entry(first.clone())
        .or_insert_with(|| Node::Branch(BTreeMap::new()));
    if let Node::Branch(children) = child {
        insert(children, rest, value);
    }
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let mut target = spec;
            for part in reference.trim_start_matches("#/").split('/') {
                target = &target[part];
            }
            resolve(spec, target)
        }
        None => schema,
    }
}

fn validate(spec: &Value, schema: &Value, node: &Node, at: &str, problems: &mut Vec<String>) {
    let schema = resolve(spec, schema);
    if let Some(alternatives) = schema["anyOf"].as_array().or(schema["oneOf"].as_array()) {
        let mut first = None;
        for alternative in alternatives {
            let mut found = Vec::new();
            validate(spec, alternative, node, at, &mut found);
            if found.is_empty() {
                return;
            }
            first.get_or_insert(found);
        }
        problems.extend(first.unwrap_or_else(|| vec![format!("{at}: no alternative")]));
        return;
    }
    match node {
        Node::Leaf(value) => {
            if matches!(schema["type"].as_str(), Some("object" | "array")) {
                problems.push(format!(
                    "{at}: {value:?} where an {} is expected",
                    schema["type"]
                ));
            } else if let Some(values) = schema["enum"].as_array()
                && !values.iter().any(|allowed| allowed.as_str() == Some(value))
            {
                problems.push(format!("{at}: {value:?} is not one of its values"));
            }
        }
        Node::Branch(children) => {
            if schema["type"] == "array" || schema.get("items").is_some() {
                for (index, child) in children {
                    if index.parse::<usize>().is_err() {
                        problems.push(format!("{at}[{index}]: not an index"));
                    }
                    validate(
                        spec,
                        &schema["items"],
                        child,
                        &format!("{at}[{index}]"),
                        problems,
                    );
                }
                return;
            }
            let properties = schema["properties"].as_object();
            for (name, child) in children {
                let here = format!("{at}[{name}]");
                match properties.and_then(|properties| properties.get(name)) {
                    Some(property) => validate(spec, property, child, &here, problems),
                    None if schema["additionalProperties"].is_object() => validate(
                        spec,
                        &schema["additionalProperties"],
                        child,
                        &here,
                        problems,
                    ),
                    None => problems.push(format!("{here}: not a field of this operation")),
                }
            }
            for required in schema["required"].as_array().into_iter().flatten() {
                let name = required.as_str().unwrap_or_default();
                if !children.contains_key(name) {
                    problems.push(format!("{at}: the required {name} is missing"));
                }
            }
        }
    }
}
