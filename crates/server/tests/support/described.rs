//! The server's answers, checked against its own OpenAPI description (`/openapi.json`,
//! `mighty_server::openapi`): every answer the in-process tests receive goes through
//! [`check`] (`TestServer::send`), so each flow the tests drive also proves that what the
//! description says is what the server does.
//!
//! An answer is described when its method and path match an operation, its status one of the
//! operation's responses (the exact code, else `4XX`-style ranges, else `default`), its
//! `Content-Type` one of that response's media types, and, for JSON, its body the media
//! type's schema (JSON Schema 2020-12, formats such as `date-time` checked).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use axum::http::{HeaderMap, Method, StatusCode, header};
use mighty_server::config::Mode;
use serde_json::{Value, json};

pub struct Description {
    pub document: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

/// The description the server serves in `mode`.
pub fn description(mode: &Mode) -> &'static Description {
    static SANDBOX: OnceLock<Description> = OnceLock::new();
    static LIVE: OnceLock<Description> = OnceLock::new();
    let (cell, mode) = match mode {
        Mode::Sandbox => (&SANDBOX, Mode::Sandbox),
        Mode::Live => (&LIVE, Mode::Live),
    };
    cell.get_or_init(|| Description {
        document: mighty_server::openapi::description(mode),
        validators: Mutex::default(),
    })
}

/// Checks one answer of the server (see the module's header); the error says what differs.
pub fn check(
    mode: &Mode,
    method: &Method,
    path: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), String> {
    let description = description(mode);
    description.check(method, path, status, headers, body)?;
    if let Some((template, _)) = description.path_item(path) {
        answered().lock().unwrap().insert((
            method_name(method).to_string(),
            template.to_string(),
            status.as_u16(),
        ));
    }
    Ok(())
}

/// (method, path template, status) of every answer [`check`]ed in this test binary: which
/// operations real answers have covered.
pub fn answered() -> &'static Mutex<BTreeSet<(String, String, u16)>> {
    static ANSWERED: OnceLock<Mutex<BTreeSet<(String, String, u16)>>> = OnceLock::new();
    ANSWERED.get_or_init(Mutex::default)
}

impl Description {
    /// The template of the described path `path` matches (the one with the most literal
    /// segments when several do), and its path item.
    pub fn path_item(&self, path: &str) -> Option<(&str, &Value)> {
        let segments: Vec<&str> = path.split('/').collect();
        let paths = self.document["paths"].as_object()?;
        paths
            .iter()
            .filter_map(|(template, item)| {
                let parts: Vec<&str> = template.split('/').collect();
                if parts.len() != segments.len() {
                    return None;
                }
                let mut literal = 0;
                for (part, segment) in parts.iter().zip(&segments) {
                    if part.starts_with('{') && part.ends_with('}') {
                        if segment.is_empty() {
                            return None;
                        }
                    } else if part == segment {
                        literal += 1;
                    } else {
                        return None;
                    }
                }
                Some((literal, template.as_str(), item))
            })
            .max_by_key(|(literal, _, _)| *literal)
            .map(|(_, template, item)| (template, item))
    }

    pub fn check(
        &self,
        method: &Method,
        path: &str,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), String> {
        let what = format!("{method} {path} answered {status}");
        // The demo directory's own files (its pages, media and listing documents) are not
        // part of the API: `/www/` is left out of the description on purpose.
        if path.starts_with("/www/") {
            return Ok(());
        }
        let Some((template, item)) = self.path_item(path) else {
            // Paths the router does not have answer the error body (the fallback).
            if status == StatusCode::NOT_FOUND {
                return self.check_json(
                    &format!("{what} (no such path)"),
                    &json!({"$ref": "#/components/schemas/ErrorBody"}),
                    body,
                );
            }
            return Err(format!("{what}: the path is not described"));
        };
        // HEAD is GET without a body.
        let (operation_method, head) = match *method {
            Method::HEAD => ("get", true),
            _ => (method_name(method), false),
        };
        let Some(operation) = item.get(operation_method) else {
            return if status == StatusCode::METHOD_NOT_ALLOWED {
                // Any described path answers other methods with 405 and the error body.
                self.check_json(
                    &what,
                    &json!({"$ref": "#/components/schemas/ErrorBody"}),
                    body,
                )
            } else {
                Err(format!("{what}: {method} {template} is not described"))
            };
        };
        let responses = &operation["responses"];
        let code = status.as_u16().to_string();
        let range = format!("{}XX", status.as_u16() / 100);
        let Some((key, response)) = [code.as_str(), range.as_str(), "default"]
            .into_iter()
            .find_map(|key| responses.get(key).map(|response| (key, response)))
        else {
            return Err(format!(
                "{what}: status {code} of {method} {template} is not described"
            ));
        };
        let what = format!("{what} ({method} {template}, response {key})");
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(|value| {
                value
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            });
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            return if body.is_empty() || head {
                Ok(())
            } else {
                Err(format!(
                    "{what}: a body ({content_type:?}) where the description has none"
                ))
            };
        };
        let Some(content_type) = content_type else {
            return if body.is_empty() {
                Ok(())
            } else {
                Err(format!("{what}: a body without Content-Type"))
            };
        };
        let Some(media) = content.get(&content_type) else {
            return Err(format!(
                "{what}: Content-Type {content_type} is not described (described: {})",
                content.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        };
        let is_json = content_type == "application/json" || content_type.ends_with("+json");
        match media.get("schema") {
            Some(schema) if is_json && !head => self.check_json(&what, schema, body),
            _ => Ok(()),
        }
    }

    fn check_json(&self, what: &str, schema: &Value, body: &[u8]) -> Result<(), String> {
        let instance: Value = serde_json::from_slice(body).map_err(|error| {
            format!(
                "{what}: the body is not JSON ({error}): {}",
                String::from_utf8_lossy(body)
            )
        })?;
        self.validate(schema, &instance).map_err(|errors| {
            format!("{what}: the body does not match the description:\n{errors}\nbody: {instance}")
        })
    }

    /// Validates `instance` against `schema` (a schema of the description, `$ref`s into its
    /// components included); the error lists every problem with its JSON path.
    pub fn validate(&self, schema: &Value, instance: &Value) -> Result<(), String> {
        let key = schema.to_string();
        let validator = {
            let mut validators = self.validators.lock().unwrap();
            match validators.get(&key) {
                Some(validator) => Arc::clone(validator),
                None => {
                    let root = json!({
                        "$schema": "https://json-schema.org/draft/2020-12/schema",
                        "components": self.document["components"],
                        "allOf": [schema],
                    });
                    let validator = jsonschema::options()
                        .with_draft(jsonschema::Draft::Draft202012)
                        .should_validate_formats(true)
                        .build(&root)
                        .map_err(|error| {
                            format!("the description's schema does not compile: {error}")
                        })?;
                    let validator = Arc::new(validator);
                    validators.insert(key, Arc::clone(&validator));
                    validator
                }
            }
        };
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|error| format!("  at {}: {error}", error.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("\n"))
        }
    }

    /// The schema of `name` in the description's components, as a `$ref`.
    pub fn component(name: &str) -> Value {
        json!({ "$ref": format!("#/components/schemas/{name}") })
    }
}

pub fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "get",
        Method::PUT => "put",
        Method::POST => "post",
        Method::DELETE => "delete",
        Method::OPTIONS => "options",
        Method::HEAD => "head",
        Method::PATCH => "patch",
        Method::TRACE => "trace",
        _ => "other",
    }
}
