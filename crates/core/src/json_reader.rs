//! Reading the raw listing out of a parsed `serde_json::Value`, with the JSON path of every
//! wrong type (`offers[1].price: expected ..., found the string "24.00"`).
//!
//! Why not `#[derive(Deserialize)]` with `serde_path_to_error`: measured in the widget, the
//! derive visitors wrapped in path tracking cost about 60 KB of wasm (a third of the bundle).
//! Walking one `Value` is a few KB, and lets every message say what was found and what to
//! write instead.

use serde_json::{Map, Value};

use crate::error::{ConfigError, ConfigErrorCode};
use crate::listing::{
    ConfigErrors, RawCaseStudy, RawCheckout, RawCreator, RawDemo, RawDrop, RawListing, RawOffer,
    RawOfferVariant, RawPopup, RawPrice, RawRating, RawSeller, RawTestimonial, RawTier, RawTrust,
    RawVariantBounds,
};

/// How a found value is named in messages: `the string "24.00"`, `the number 24.5`.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => format!("the number {}", crate::listing::json_number_text(number)),
        Value::String(text) => format!("the string \"{text}\""),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

/// Collects type errors while fields are read.
struct Reader {
    errors: Vec<ConfigError>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl Reader {
    fn wrong(&mut self, path: &str, expected: &str, found: &Value) {
        self.errors.push(ConfigError::invalid(
            path,
            format!("expected {expected}, found {}", describe(found)),
        ));
    }

    /// A field's value; JSON `null` counts as absent.
    fn get<'v>(object: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
        object.get(key).filter(|value| !value.is_null())
    }

    fn string(&mut self, object: &Map<String, Value>, path: &str, key: &str) -> Option<String> {
        let value = Self::get(object, key)?;
        match value {
            Value::String(text) => Some(text.clone()),
            other => {
                self.wrong(&join(path, key), "a string", other);
                None
            }
        }
    }

    fn boolean(&mut self, object: &Map<String, Value>, path: &str, key: &str) -> Option<bool> {
        let value = Self::get(object, key)?;
        match value {
            Value::Bool(flag) => Some(*flag),
            other => {
                self.wrong(&join(path, key), "true or false", other);
                None
            }
        }
    }

    fn whole_number(&mut self, object: &Map<String, Value>, path: &str, key: &str) -> Option<u64> {
        let value = Self::get(object, key)?;
        match value.as_u64() {
            Some(number) => Some(number),
            None => {
                self.wrong(&join(path, key), "a whole number, 0 or more", value);
                None
            }
        }
    }

    fn number(&mut self, object: &Map<String, Value>, path: &str, key: &str) -> Option<f64> {
        let value = Self::get(object, key)?;
        match value.as_f64() {
            Some(number) => Some(number),
            None => {
                self.wrong(&join(path, key), "a number", value);
                None
            }
        }
    }

    fn object<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<&'v Map<String, Value>> {
        let value = Self::get(object, key)?;
        match value {
            Value::Object(inner) => Some(inner),
            other => {
                self.wrong(&join(path, key), "an object", other);
                None
            }
        }
    }

    /// A list, each item read by `read_item` with its `[index]` path.
    fn list<T>(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
        mut read_item: impl FnMut(&mut Reader, &Value, &str) -> Option<T>,
    ) -> Option<Vec<T>> {
        let value = Self::get(object, key)?;
        let Value::Array(items) = value else {
            self.wrong(&join(path, key), "a list", value);
            return None;
        };
        let list_path = join(path, key);
        Some(
            items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| read_item(self, item, &format!("{list_path}[{index}]")))
                .collect(),
        )
    }

    fn list_of_objects<T>(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
        read: fn(&mut Reader, &Map<String, Value>, &str) -> T,
    ) -> Option<Vec<T>> {
        self.list(object, path, key, |reader, item, item_path| match item {
            Value::Object(inner) => Some(read(reader, inner, item_path)),
            other => {
                reader.wrong(item_path, "an object", other);
                None
            }
        })
    }

    fn list_of_strings(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<Vec<String>> {
        self.list(object, path, key, |reader, item, item_path| match item {
            Value::String(text) => Some(text.clone()),
            other => {
                reader.wrong(item_path, "a string", other);
                None
            }
        })
    }

    fn price(&mut self, object: &Map<String, Value>, path: &str, key: &str) -> Option<RawPrice> {
        const EXPECTED: &str = "a whole number of minor units (2400 for 24.00) or {\"amount\": 2400, \"currency\": \"EUR\"}";
        let value = Self::get(object, key)?;
        let path = join(path, key);
        match value {
            Value::Number(_) => self.minor_units(value, &path).map(RawPrice::Minor),
            Value::Object(inner) => {
                let amount = match Self::get(inner, "amount") {
                    Some(amount) => self.minor_units(amount, &join(&path, "amount")),
                    None => {
                        self.errors.push(ConfigError::invalid(
                            join(&path, "amount"),
                            "is missing; give the amount in minor units, e.g. 2400",
                        ));
                        None
                    }
                };
                let currency = match Self::get(inner, "currency") {
                    Some(_) => self.string(inner, &path, "currency"),
                    None => {
                        self.errors.push(ConfigError::invalid(
                            join(&path, "currency"),
                            "is missing; give the ISO 4217 code, e.g. \"EUR\"",
                        ));
                        None
                    }
                };
                Some(RawPrice::WithCurrency {
                    amount: amount?,
                    currency: currency?,
                })
            }
            other => {
                self.wrong(&path, EXPECTED, other);
                None
            }
        }
    }

    fn minor_units(&mut self, value: &Value, path: &str) -> Option<i64> {
        if let Some(whole) = value.as_i64() {
            return Some(whole);
        }
        match value {
            Value::Number(number) if number.is_f64() => self.errors.push(ConfigError::invalid(
                path,
                format!("{} is not a whole number: prices are integers in minor units, e.g. 2400 for 24.00", crate::listing::json_number_text(number)),
            )),
            Value::Number(number) => self.errors.push(ConfigError::invalid(path, format!("{} is too large for a price", crate::listing::json_number_text(number)))),
            other => self.wrong(path, "a whole number of minor units (2400 for 24.00)", other),
        }
        None
    }
}

/// Parses JSON text into the raw listing, or the errors that say what is wrong and where.
pub fn read_raw_listing(json: &str) -> Result<RawListing, ConfigErrors> {
    read_parsed_listing(parse_json(json))
}

/// JSON text as a `Value`, or the parser's words on what is wrong (with line and column).
/// The widget parses with the browser's `JSON.parse` instead and hands core the result: the
/// serde_json parser costs 7 KB gzip of wasm.
pub fn parse_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|error| error.to_string())
}

/// The raw listing from a parse result (see [`parse_json`]).
pub fn read_parsed_listing(parsed: Result<Value, String>) -> Result<RawListing, ConfigErrors> {
    let document = parsed.map_err(|error| {
        ConfigError::invalid(
            "",
            format!("the listing document is not valid JSON: {error}"),
        )
        .with_code(ConfigErrorCode::MalformedDocument)
    })?;
    raw_listing_from_value(&document)
}

/// Reads the raw listing out of an already parsed document.
pub fn raw_listing_from_value(document: &Value) -> Result<RawListing, ConfigErrors> {
    let Value::Object(root) = document else {
        return Err(ConfigError::invalid("", format!("the listing document must be a JSON object ({{ \"version\": 1, \"id\": ... }}), found {}", describe(document)))
            .with_code(ConfigErrorCode::MalformedDocument)
            .into());
    };
    let mut reader = Reader { errors: Vec::new() };
    let reader = &mut reader;
    let raw = RawListing {
        version: reader.whole_number(root, "", "version"),
        id: reader.string(root, "", "id"),
        title: reader.string(root, "", "title"),
        summary: reader.string(root, "", "summary"),
        currency: reader.string(root, "", "currency"),
        seller: reader.object(root, "", "seller").map(|seller| RawSeller {
            name: reader.string(seller, "seller", "name"),
            location: reader.string(seller, "seller", "location"),
            url: reader.string(seller, "seller", "url"),
        }),
        creators: reader.list_of_objects(root, "", "creators", read_creator),
        trust: reader
            .object(root, "", "trust")
            .map(|trust| read_trust(reader, trust)),
        offers: reader.list_of_objects(root, "", "offers", read_offer),
        drop: reader.object(root, "", "drop").map(|drop| RawDrop {
            starts_at: reader.string(drop, "drop", "starts_at"),
            ends_at: reader.string(drop, "drop", "ends_at"),
            inventory: reader.whole_number(drop, "drop", "inventory"),
            remaining: reader.whole_number(drop, "drop", "remaining"),
            popup: reader
                .object(drop, "drop", "popup")
                .map(|popup| read_popup(reader, popup)),
        }),
        checkout: reader
            .object(root, "", "checkout")
            .map(|checkout| RawCheckout {
                endpoint: reader.string(checkout, "checkout", "endpoint"),
            }),
        server_time: reader.string(root, "", "server_time"),
        test_mode: reader.boolean(root, "", "test_mode"),
    };
    if reader.errors.is_empty() {
        Ok(raw)
    } else {
        Err(ConfigErrors(std::mem::take(&mut reader.errors)))
    }
}

fn read_creator(reader: &mut Reader, creator: &Map<String, Value>, path: &str) -> RawCreator {
    RawCreator {
        handle: reader.string(creator, path, "handle"),
        name: reader.string(creator, path, "name"),
        avatar: reader.string(creator, path, "avatar"),
        demo: reader.object(creator, path, "demo").map(|demo| {
            let demo_path = join(path, "demo");
            RawDemo {
                src: Reader::get(demo, "src").cloned(),
                poster: reader.string(demo, &demo_path, "poster"),
                captions: reader.string(demo, &demo_path, "captions"),
                duration_s: reader.number(demo, &demo_path, "duration_s"),
                aspect: reader.string(demo, &demo_path, "aspect"),
            }
        }),
    }
}

fn read_trust(reader: &mut Reader, trust: &Map<String, Value>) -> RawTrust {
    RawTrust {
        rating: reader
            .object(trust, "trust", "rating")
            .map(|rating| RawRating {
                value: reader.number(rating, "trust.rating", "value"),
                count: reader.whole_number(rating, "trust.rating", "count"),
            }),
        testimonials: reader.list_of_objects(
            trust,
            "trust",
            "testimonials",
            |reader, testimonial, path| RawTestimonial {
                author: reader.string(testimonial, path, "author"),
                text: reader.string(testimonial, path, "text"),
                verified: reader.boolean(testimonial, path, "verified"),
            },
        ),
        case_studies: reader.list_of_objects(
            trust,
            "trust",
            "case_studies",
            |reader, study, path| RawCaseStudy {
                title: reader.string(study, path, "title"),
                metric: reader.string(study, path, "metric"),
                url: reader.string(study, path, "url"),
            },
        ),
        badges: reader.list_of_strings(trust, "trust", "badges"),
    }
}

fn read_offer(reader: &mut Reader, offer: &Map<String, Value>, path: &str) -> RawOffer {
    RawOffer {
        id: reader.string(offer, path, "id"),
        kind: reader.string(offer, path, "kind"),
        name: reader.string(offer, path, "name"),
        price: reader.price(offer, path, "price"),
        compare_at: reader.price(offer, path, "compare_at"),
        items: reader.list_of_strings(offer, path, "items"),
        ships: reader.boolean(offer, path, "ships"),
        tiers: reader.list_of_objects(offer, path, "tiers", |reader, tier, path| RawTier {
            id: reader.string(tier, path, "id"),
            name: reader.string(tier, path, "name"),
            price: reader.price(tier, path, "price"),
            interval: reader.string(tier, path, "interval"),
            perks: reader.list_of_strings(tier, path, "perks"),
        }),
        fulfilment: reader.list_of_strings(offer, path, "fulfilment"),
        variants: reader.list_of_objects(offer, path, "variants", |reader, variant, path| {
            RawOfferVariant {
                id: reader.string(variant, path, "id"),
                price: reader.price(variant, path, "price"),
                compare_at: reader.price(variant, path, "compare_at"),
                items: reader.list_of_strings(variant, path, "items"),
                share: reader.number(variant, path, "share"),
            }
        }),
        variant_bounds: reader.object(offer, path, "variant_bounds").map(|bounds| {
            let path = join(path, "variant_bounds");
            RawVariantBounds {
                floor: reader.price(bounds, &path, "floor"),
                ceiling: reader.price(bounds, &path, "ceiling"),
            }
        }),
    }
}

fn read_popup(reader: &mut Reader, popup: &Map<String, Value>) -> RawPopup {
    const PATH: &str = "drop.popup";
    RawPopup {
        name: reader.string(popup, PATH, "name"),
        address: reader.string(popup, PATH, "address"),
        lat: reader.number(popup, PATH, "lat"),
        lon: reader.number(popup, PATH, "lon"),
        opens_at: reader.string(popup, PATH, "opens_at"),
        closes_at: reader.string(popup, PATH, "closes_at"),
        timezone: reader.string(popup, PATH, "timezone"),
    }
}
