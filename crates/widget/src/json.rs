//! JSON text into core's `serde_json::Value` through the browser's own `JSON.parse`: core
//! reads `Value`s either way, and serde_json's parser would cost 7 KB gzip of wasm that the
//! size budget cannot spare. The conversion keeps integers integers (`2400`, not `2400.0`),
//! so core's "whole number of minor units" checks read the same as natively.

use js_sys::{Array, JSON, Object, Reflect};
use serde_json::{Map, Number, Value};
use wasm_bindgen::{JsCast, JsValue};

/// As deep as serde_json goes by default; deeper documents are refused, not overflowed.
const MAX_DEPTH: u32 = 128;

/// Parses JSON text; `Err` is the browser's message (it names the position).
pub fn parse(text: &str) -> Result<Value, String> {
    let parsed = JSON::parse(text).map_err(|error| {
        error
            .dyn_ref::<js_sys::Error>()
            .map(|error| String::from(error.message()))
            .unwrap_or_else(|| "not JSON".to_string())
    })?;
    to_value(&parsed, 0)
}

/// A JavaScript value read as it is, into a `Value` (a listing object given to
/// `Mighty.mount`): lists by `Array.isArray`, objects by their own keys, never through the
/// page's `JSON.stringify` or any `toJSON`.
pub fn from_js(value: &JsValue) -> Result<Value, String> {
    to_value(value, 0)
}

fn to_value(value: &JsValue, depth: u32) -> Result<Value, String> {
    if let Some(text) = value.as_string() {
        return Ok(Value::String(text));
    }
    if let Some(flag) = value.as_bool() {
        return Ok(Value::Bool(flag));
    }
    if let Some(number) = value.as_f64() {
        return Ok(number_value(number));
    }
    if value.is_null() || !value.is_object() {
        return Ok(Value::Null);
    }
    if depth >= MAX_DEPTH {
        return Err(format!("nested more than {MAX_DEPTH} levels deep"));
    }
    if Array::is_array(value) {
        let mut items = Vec::new();
        for item in Array::from(value).iter() {
            items.push(to_value(&item, depth + 1)?);
        }
        return Ok(Value::Array(items));
    }
    let mut map = Map::new();
    let object: &Object = value.unchecked_ref();
    for key in Object::keys(object).iter() {
        let item = Reflect::get(value, &key).unwrap_or(JsValue::NULL);
        map.insert(
            key.as_string().unwrap_or_default(),
            to_value(&item, depth + 1)?,
        );
    }
    Ok(Value::Object(map))
}

/// Whole numbers that a double holds exactly become integers, as serde_json reads them.
fn number_value(number: f64) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if number.fract() == 0.0 && number.abs() < EXACT {
        Value::from(number as i64)
    } else {
        Number::from_f64(number).map_or(Value::Null, Value::Number)
    }
}
