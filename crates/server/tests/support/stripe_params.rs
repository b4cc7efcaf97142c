//! The request shapes live mode may send to Stripe, one entry per Stripe operation the
//! client calls, each named by its `operationId` in Stripe's OpenAPI description
//! (`stripe/openapi`, `openapi/spec3.json`): the parameters Mighty uses, with their types and
//! allowed values, and the fields the description requires once their parent is sent. The
//! stand-in (`stripe.rs`) refuses any request outside this table as Stripe would (400
//! `parameter_unknown`, `parameter_missing`, `parameter_invalid_integer`), and
//! `openapi::check` holds every recorded request to it, so the test command checks request
//! shapes without Stripe's description in the repository.
//!
//! Written by reading the description, not copied from it. Checked entry by entry against
//! `openapi/spec3.yaml` of `stripe/openapi` at commit 63a674638635 (API version 2023-08-16,
//! the newest whole copy of the description the snapshot held; later ones are over its size
//! limit), and `GetInvoicePayments` (added in 2025) against stripe-go's parameters generated
//! from the 2025 description (`InvoicePaymentListParams`: `invoice`, `expand`). Metadata
//! limits are Stripe's documented ones (50 keys, keys up to 40 characters, values up to 500).
//! When `MIGHTY_STRIPE_OPENAPI` names a copy of the description, `openapi::check` also walks
//! every request through the description itself.
#![allow(dead_code)]

/// What a parameter's value must be.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A string of at most this many characters.
    Text(usize),
    /// An integer (`type: integer`; unix times are integers too).
    Integer,
    /// One of these values (`enum`).
    OneOf(&'static [&'static str]),
    /// An ISO 3166-1 alpha-2 code in capitals (the description lists Stripe's 237).
    Country,
}

/// One Stripe operation and the parameters Mighty may send to it.
pub struct Operation {
    pub operation_id: &'static str,
    pub method: &'static str,
    /// `{name}` is a path parameter.
    pub path: &'static str,
    /// Bracket keys; `#` is an array index, `*` any metadata key.
    pub parameters: &'static [(&'static str, Kind)],
    /// (parent, field): once anything under `parent` is sent, `parent[field]` must be.
    pub required: &'static [(&'static str, &'static str)],
}

const METADATA_KEYS: usize = 50;
const METADATA_KEY_CHARS: usize = 40;
const METADATA_VALUE_CHARS: usize = 500;
const INTERVALS: &[&str] = &["day", "month", "week", "year"];

pub const OPERATIONS: &[Operation] = &[
    Operation {
        operation_id: "PostCheckoutSessions",
        method: "POST",
        path: "/v1/checkout/sessions",
        parameters: &[
            ("mode", Kind::OneOf(&["payment", "setup", "subscription"])),
            ("client_reference_id", Kind::Text(200)),
            ("success_url", Kind::Text(5000)),
            ("cancel_url", Kind::Text(5000)),
            ("expires_at", Kind::Integer),
            ("line_items[#][quantity]", Kind::Integer),
            ("line_items[#][price_data][currency]", Kind::Text(3)),
            ("line_items[#][price_data][unit_amount]", Kind::Integer),
            (
                "line_items[#][price_data][product_data][name]",
                Kind::Text(5000),
            ),
            (
                "line_items[#][price_data][recurring][interval]",
                Kind::OneOf(INTERVALS),
            ),
            ("metadata[*]", Kind::Text(METADATA_VALUE_CHARS)),
            (
                "subscription_data[metadata][*]",
                Kind::Text(METADATA_VALUE_CHARS),
            ),
            (
                "payment_intent_data[metadata][*]",
                Kind::Text(METADATA_VALUE_CHARS),
            ),
            (
                "shipping_address_collection[allowed_countries][#]",
                Kind::Country,
            ),
            ("expand[#]", Kind::Text(5000)),
        ],
        required: &[
            ("line_items[#][price_data]", "currency"),
            ("line_items[#][price_data][product_data]", "name"),
            ("line_items[#][price_data][recurring]", "interval"),
            ("shipping_address_collection", "allowed_countries"),
        ],
    },
    Operation {
        operation_id: "GetCheckoutSessionsSession",
        method: "GET",
        path: "/v1/checkout/sessions/{session}",
        parameters: &[("expand[#]", Kind::Text(5000))],
        required: &[],
    },
    Operation {
        operation_id: "PostCheckoutSessionsSessionExpire",
        method: "POST",
        path: "/v1/checkout/sessions/{session}/expire",
        parameters: &[("expand[#]", Kind::Text(5000))],
        required: &[],
    },
    Operation {
        operation_id: "GetSubscriptionsSubscriptionExposedId",
        method: "GET",
        path: "/v1/subscriptions/{subscription_exposed_id}",
        parameters: &[("expand[#]", Kind::Text(5000))],
        required: &[],
    },
    Operation {
        operation_id: "PostSubscriptionsSubscriptionExposedId",
        method: "POST",
        path: "/v1/subscriptions/{subscription_exposed_id}",
        parameters: &[
            ("items[#][id]", Kind::Text(5000)),
            ("items[#][price_data][currency]", Kind::Text(3)),
            ("items[#][price_data][product]", Kind::Text(5000)),
            ("items[#][price_data][unit_amount]", Kind::Integer),
            (
                "items[#][price_data][recurring][interval]",
                Kind::OneOf(INTERVALS),
            ),
            (
                "proration_behavior",
                Kind::OneOf(&["always_invoice", "create_prorations", "none"]),
            ),
            ("proration_date", Kind::Integer),
            (
                "payment_behavior",
                Kind::OneOf(&[
                    "allow_incomplete",
                    "default_incomplete",
                    "error_if_incomplete",
                    "pending_if_incomplete",
                ]),
            ),
            // An empty `pause_collection` clears a pause (`anyOf` object or `""`).
            ("pause_collection", Kind::OneOf(&[""])),
            (
                "pause_collection[behavior]",
                Kind::OneOf(&["keep_as_draft", "mark_uncollectible", "void"]),
            ),
            ("pause_collection[resumes_at]", Kind::Integer),
            ("metadata[*]", Kind::Text(METADATA_VALUE_CHARS)),
            ("expand[#]", Kind::Text(5000)),
        ],
        required: &[
            ("items[#][price_data]", "currency"),
            ("items[#][price_data]", "product"),
            ("items[#][price_data]", "recurring"),
            ("items[#][price_data][recurring]", "interval"),
            ("pause_collection", "behavior"),
        ],
    },
    Operation {
        operation_id: "DeleteSubscriptionsSubscriptionExposedId",
        method: "DELETE",
        path: "/v1/subscriptions/{subscription_exposed_id}",
        parameters: &[],
        required: &[],
    },
    Operation {
        operation_id: "GetInvoicesInvoice",
        method: "GET",
        path: "/v1/invoices/{invoice}",
        parameters: &[("expand[#]", Kind::Text(5000))],
        required: &[],
    },
    Operation {
        operation_id: "GetInvoicePayments",
        method: "GET",
        path: "/v1/invoice_payments",
        parameters: &[
            ("invoice", Kind::Text(5000)),
            ("expand[#]", Kind::Text(5000)),
        ],
        required: &[],
    },
    Operation {
        operation_id: "PostRefunds",
        method: "POST",
        path: "/v1/refunds",
        parameters: &[
            ("payment_intent", Kind::Text(5000)),
            ("charge", Kind::Text(5000)),
            ("metadata[*]", Kind::Text(METADATA_VALUE_CHARS)),
        ],
        required: &[],
    },
];

/// Why Stripe would refuse a request: its error `code`, `param` and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: &'static str,
    pub param: Option<String>,
    pub message: String,
}

/// The operation of `method path`, if the client may call it.
pub fn operation(method: &str, path: &str) -> Option<&'static Operation> {
    let parts: Vec<&str> = path.split('/').collect();
    OPERATIONS.iter().find(|operation| {
        let pattern: Vec<&str> = operation.path.split('/').collect();
        operation.method == method
            && pattern.len() == parts.len()
            && pattern
                .iter()
                .zip(&parts)
                .all(|(want, got)| want == got || (want.starts_with('{') && !got.is_empty()))
    })
}

/// `line_items[0][price_data][currency]` → `["line_items", "0", "price_data", "currency"]`.
fn segments(key: &str) -> Vec<&str> {
    let (head, rest) = key.split_once('[').unwrap_or((key, ""));
    let mut segments = vec![head];
    segments.extend(
        rest.split('[')
            .map(|part| part.trim_end_matches(']'))
            .filter(|part| !part.is_empty()),
    );
    segments
}

/// Whether the concrete segments fit a pattern's (`#` an index, `*` any key).
fn fits(pattern: &[&str], concrete: &[&str]) -> bool {
    pattern.len() == concrete.len()
        && pattern.iter().zip(concrete).all(|(want, got)| match *want {
            "#" => got.parse::<usize>().is_ok(),
            "*" => !got.is_empty(),
            _ => want == got,
        })
}

/// Checks one request against the table: the first problem Stripe would answer, if any.
pub fn check(method: &str, path: &str, form: &[(String, String)]) -> Result<(), Problem> {
    let Some(operation) = operation(method, path) else {
        return Err(Problem {
            code: "resource_missing",
            param: None,
            message: format!("Unrecognized request URL ({method}: {path})."),
        });
    };
    let mut metadata_counts: std::collections::HashMap<String, usize> = Default::default();
    for (key, value) in form {
        let concrete = segments(key);
        let Some((pattern, kind)) = operation
            .parameters
            .iter()
            .find(|(pattern, _)| fits(&segments(pattern), &concrete))
        else {
            return Err(Problem {
                code: "parameter_unknown",
                param: Some(key.clone()),
                message: format!(
                    "Received unknown parameter: {key} ({} takes no such field)",
                    operation.operation_id
                ),
            });
        };
        let invalid = |message: String| {
            Err(Problem {
                code: "parameter_invalid",
                param: Some(key.clone()),
                message,
            })
        };
        if pattern.ends_with("[*]") {
            let name = concrete.last().copied().unwrap_or_default();
            if name.chars().count() > METADATA_KEY_CHARS {
                return invalid(format!(
                    "Metadata keys can have up to {METADATA_KEY_CHARS} characters: {key}"
                ));
            }
            let prefix = concrete[..concrete.len() - 1].join("/");
            let count = metadata_counts.entry(prefix).or_default();
            *count += 1;
            if *count > METADATA_KEYS {
                return invalid(format!(
                    "Metadata can have up to {METADATA_KEYS} keys: {key}"
                ));
            }
        }
        match kind {
            Kind::Text(most) if value.chars().count() > *most => {
                return invalid(format!("Invalid {key}: must be at most {most} characters"));
            }
            Kind::Integer if value.parse::<i64>().is_err() => {
                return Err(Problem {
                    code: "parameter_invalid_integer",
                    param: Some(key.clone()),
                    message: format!("Invalid integer: {value}"),
                });
            }
            Kind::OneOf(values) if !values.contains(&value.as_str()) => {
                return invalid(format!(
                    "Invalid {key}: must be one of {}",
                    values.join(", ")
                ));
            }
            Kind::Country
                if !(value.len() == 2 && value.bytes().all(|byte| byte.is_ascii_uppercase())) =>
            {
                return invalid(format!("Invalid {key}: not a country code"));
            }
            _ => {}
        }
    }
    for (parent, field) in operation.required {
        let parent_pattern = segments(parent);
        let mut parents: Vec<Vec<&str>> = Vec::new();
        for (key, _) in form {
            let concrete = segments(key);
            // An object parent is sent when a key lies under it (the empty value that
            // clears `pause_collection` is the parent itself, not one of its fields).
            if concrete.len() > parent_pattern.len()
                && fits(&parent_pattern, &concrete[..parent_pattern.len()])
            {
                let prefix = concrete[..parent_pattern.len()].to_vec();
                if !parents.contains(&prefix) {
                    parents.push(prefix);
                }
            }
        }
        for prefix in parents {
            let present = form.iter().any(|(key, _)| {
                let concrete = segments(key);
                concrete.len() > prefix.len()
                    && concrete[..prefix.len()] == prefix[..]
                    && concrete[prefix.len()] == *field
            });
            if !present {
                let at = bracket(&prefix);
                return Err(Problem {
                    code: "parameter_missing",
                    param: Some(format!("{at}[{field}]")),
                    message: format!("Missing required param: {at}[{field}]."),
                });
            }
        }
    }
    Ok(())
}

/// `["a", "0", "b"]` → `a[0][b]`.
pub fn bracket(segments: &[&str]) -> String {
    let mut key = segments[0].to_string();
    for segment in &segments[1..] {
        key.push('[');
        key.push_str(segment);
        key.push(']');
    }
    key
}
