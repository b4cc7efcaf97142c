//! Pop-ups and pick-up (issue 15, SPEC 3.1, 4 and 7): the pop-up's calendar file read back
//! with a real RFC 5545 parser, the listing rules at `PUT`, fulfilment at checkout, the pay
//! page and receipt of a pick-up, pick-up codes and finding an order by one, and the
//! webhook's word on both.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use icalendar::{
    Calendar, CalendarComponent, CalendarDateTime, Component, DatePerhapsTime, EventLike,
};
use mighty_core::Timestamp;
use mighty_server::webhooks::deliver_due;
use serde_json::{Value, json};
use support::{SELLER, TestServer, listing, receiver};

const OPENS_AT: &str = "2036-12-05T10:00:00+01:00";
const CLOSES_AT: &str = "2036-12-05T16:00:00+01:00";
/// Long enough to be folded, with every character TEXT escapes, and non-ASCII.
const ADDRESS: &str = "Place de la Croix-Rousse; angle Grande-Rue, 69004 Lyon \\ Entrée côté métro — stand n°12, près de la fontaine";

fn popup() -> Value {
    json!({ "name": "Croix-Rousse night market", "address": ADDRESS,
            "lat": 45.7745, "lon": 4.832, "opens_at": OPENS_AT, "closes_at": CLOSES_AT,
            "timezone": "Europe/Paris" })
}

/// The standard listing with a drop that has a pop-up, its bundle shipped or picked up, and
/// a second bundle that is only ever picked up.
fn listing_with_popup(id: &str) -> Value {
    let mut document = listing(
        id,
        Some(("2026-01-01T00:00:00Z", "2036-01-01T00:00:00Z", 50)),
    );
    document["drop"]["popup"] = popup();
    document["offers"][0]["fulfilment"] = json!(["ship", "pickup"]);
    document["offers"].as_array_mut().unwrap().push(
        json!({ "id": "stand", "kind": "bundle", "name": "Stand box", "price": 1800,
                       "fulfilment": ["pickup"] }),
    );
    document
}

async fn server_with_popup() -> TestServer {
    let server = TestServer::new().await;
    let put = server
        .put_listing("candle-trio", listing_with_popup("candle-trio"))
        .await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.text());
    server
}

fn checkout_body(offer_id: &str, fulfilment: Option<&str>) -> Value {
    let mut body = TestServer::checkout_body(offer_id, None, 1);
    if let Some(fulfilment) = fulfilment {
        body["fulfilment"] = json!(fulfilment);
    }
    body
}

/// Opens a session: (id, session secret).
async fn open(server: &TestServer, offer_id: &str, fulfilment: Option<&str>) -> (String, String) {
    let key = mighty_server::store::new_id("key");
    let response = server
        .checkout(&key, &checkout_body(offer_id, fulfilment))
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    let created = response.json();
    (
        created["session_id"].as_str().unwrap().to_string(),
        created["session_secret"].as_str().unwrap().to_string(),
    )
}

fn instant(text: &str) -> i64 {
    Timestamp::parse_rfc3339(text).unwrap().0
}

fn utc_seconds(when: Option<DatePerhapsTime>) -> i64 {
    match when {
        Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(at))) => at.timestamp(),
        other => panic!("expected a UTC date-time, found {other:?}"),
    }
}

#[tokio::test]
async fn the_pop_up_calendar_reads_back_at_the_documents_instants() {
    let server = server_with_popup().await;
    let response = server.get("/v1/listings/candle-trio/popup.ics").await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(
        response.headers["content-type"],
        "text/calendar; charset=utf-8"
    );
    assert_eq!(
        response.headers["content-disposition"],
        "inline; filename=\"candle-trio-popup.ics\""
    );
    let file = response.text();
    // RFC 5545 section 3.1: CRLF line ends only, no line over 75 octets.
    assert!(file.ends_with("\r\n"));
    assert!(
        !file.replace("\r\n", "").contains(['\r', '\n']),
        "bare CR or LF"
    );
    let lines: Vec<&str> = file.trim_end_matches("\r\n").split("\r\n").collect();
    assert!(lines.iter().all(|line| line.len() <= 75), "{lines:#?}");
    assert!(
        lines.iter().any(|line| line.starts_with(' ')),
        "the long address is folded"
    );

    // A real parser (the `icalendar` crate) reads it.
    let unfolded = icalendar::parser::unfold(&file);
    let calendar: Calendar = icalendar::parser::read_calendar(&unfolded)
        .unwrap_or_else(|error| panic!("{error}\n{file}"))
        .into();
    assert_eq!(calendar.property_value("VERSION"), Some("2.0"));
    assert!(
        calendar
            .property_value("PRODID")
            .is_some_and(|id| id.contains("Mighty"))
    );
    let events: Vec<&icalendar::Event> = calendar
        .components
        .iter()
        .filter_map(|component| match component {
            CalendarComponent::Event(event) => Some(event),
            _ => None,
        })
        .collect();
    assert_eq!(events.len(), 1);
    let event = events[0];
    assert_eq!(utc_seconds(event.get_start()), instant(OPENS_AT));
    assert_eq!(utc_seconds(event.get_end()), instant(CLOSES_AT));
    assert_eq!(
        event.get_summary(),
        Some("Croix-Rousse night market — Hearth & Wick")
    );
    // The parser unescapes TEXT itself.
    assert_eq!(event.get_location(), Some(ADDRESS));
    assert_eq!(event.property_value("GEO"), Some("45.774500;4.832000"));
    let uid = event.get_uid().unwrap().to_string();
    assert!(uid.starts_with("candle-trio-popup-"), "{uid}");
    assert!(event.property_value("DTSTAMP").is_some());

    // The same pop-up served again is the same event (a calendar updates it, no duplicate).
    let again = server
        .get("/v1/listings/candle-trio/popup.ics")
        .await
        .text();
    assert!(again.contains(&format!("UID:{uid}")));
}

/// Reads the served calendar's one event: (UID, SEQUENCE, LAST-MODIFIED, DTSTART in UTC
/// seconds).
async fn served_event(server: &TestServer, id: &str) -> (String, i64, String, i64) {
    let response = server.get(&format!("/v1/listings/{id}/popup.ics")).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let file = response.text();
    let calendar: Calendar = icalendar::parser::read_calendar(&icalendar::parser::unfold(&file))
        .unwrap_or_else(|error| panic!("{error}\n{file}"))
        .into();
    let event = calendar
        .components
        .iter()
        .find_map(|component| match component {
            CalendarComponent::Event(event) => Some(event.clone()),
            _ => None,
        })
        .unwrap();
    (
        event.get_uid().unwrap().to_string(),
        event.get_sequence().map(i64::from).unwrap(),
        event.property_value("LAST-MODIFIED").unwrap().to_string(),
        utc_seconds(event.get_start()),
    )
}

/// A pop-up that moves stays one event in people's calendars: the same UID, a higher
/// SEQUENCE and a later LAST-MODIFIED, even for two puts within one second; another listing
/// is another event.
#[tokio::test]
async fn a_moved_pop_up_keeps_its_uid_with_a_higher_sequence() {
    let server = server_with_popup().await;
    let (uid, first_sequence, first_modified, first_start) =
        served_event(&server, "candle-trio").await;
    assert_eq!(first_start, instant(OPENS_AT));
    assert!(first_sequence > 0, "{first_sequence}");

    // Moved a day later, at once (no clock change between the two puts).
    let mut moved = listing_with_popup("candle-trio");
    moved["drop"]["popup"]["opens_at"] = json!("2036-12-06T11:00:00+01:00");
    moved["drop"]["popup"]["closes_at"] = json!("2036-12-06T17:00:00+01:00");
    let put = server.put_listing("candle-trio", moved.clone()).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    let (same_uid, second_sequence, second_modified, second_start) =
        served_event(&server, "candle-trio").await;
    assert_eq!(same_uid, uid);
    assert_eq!(second_start, instant("2036-12-06T11:00:00+01:00"));
    assert!(
        second_sequence > first_sequence,
        "{second_sequence} after {first_sequence}"
    );
    assert!(
        second_modified > first_modified,
        "{second_modified} after {first_modified}"
    );

    // Moved again an hour of the seller's clock later: the sequence follows the clock.
    assert_eq!(server.advance_clock(3_600).await.status, StatusCode::OK);
    moved["drop"]["popup"]["opens_at"] = json!("2036-12-07T10:00:00+01:00");
    moved["drop"]["popup"]["closes_at"] = json!("2036-12-07T16:00:00+01:00");
    let put = server.put_listing("candle-trio", moved).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    let (third_uid, third_sequence, _, _) = served_event(&server, "candle-trio").await;
    assert_eq!(third_uid, uid);
    assert!(
        third_sequence >= second_sequence + 3_599,
        "{third_sequence} after {second_sequence}"
    );

    // Another listing with the same pop-up is another event.
    let put = server
        .put_listing("candle-duo", listing_with_popup("candle-duo"))
        .await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.text());
    let (other_uid, _, _, _) = served_event(&server, "candle-duo").await;
    assert_ne!(other_uid, uid);
}

#[tokio::test]
async fn no_pop_up_no_calendar() {
    let server = TestServer::with_listing().await;
    for path in [
        "/v1/listings/candle-trio/popup.ics",
        "/v1/listings/nowhere/popup.ics",
    ] {
        let response = server.get(path).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(response.error_code(), "not_found");
    }
    let response = server.get("/v1/listings/candle-trio/popup.ics").await;
    assert_eq!(
        response.json()["error"]["message"],
        "listing \"candle-trio\" has no pop-up; a seller adds one as drop.popup"
    );
}

#[tokio::test]
async fn wrong_pop_ups_and_fulfilments_are_refused_at_put_naming_the_field() {
    let server = TestServer::new().await;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/drop/popup/timezone",
            json!("Paris"),
            "drop.popup.timezone",
        ),
        (
            "/drop/popup/timezone",
            json!("Europe/Pa ris"),
            "drop.popup.timezone",
        ),
        (
            "/drop/popup/closes_at",
            json!("2036-12-05T09:59:59+01:00"),
            "drop.popup.closes_at",
        ),
        (
            "/drop/popup/opens_at",
            json!("2036-12-05 10:00"),
            "drop.popup.opens_at",
        ),
        ("/drop/popup/lat", json!(123.0), "drop.popup.lat"),
        ("/drop/popup", Value::Null, "offers[0].fulfilment"),
        (
            "/offers/0/fulfilment",
            json!(["ship", "deliver"]),
            "offers[0].fulfilment[1]",
        ),
        (
            "/offers/1/fulfilment",
            json!(["pickup"]),
            "offers[1].fulfilment",
        ),
    ];
    for (pointer, value, field) in cases {
        let mut document = listing_with_popup("candle-trio");
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let parent = document
            .pointer_mut(parent)
            .unwrap()
            .as_object_mut()
            .unwrap();
        if value.is_null() {
            parent.remove(key);
        } else {
            parent.insert(key.to_string(), value.clone());
        }
        // Without the pop-up, the pick-up-only bundle is wrong too; the first error names
        // the first offer's.
        let response = server.put_listing("candle-trio", document).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{pointer}: {}",
            response.text()
        );
        let error = &response.json()["error"];
        assert_eq!(
            (error["code"].as_str(), error["field"].as_str()),
            (Some("invalid_request"), Some(field)),
            "{pointer}: {error}"
        );
    }
    // Nothing was stored.
    assert_eq!(
        server.get("/v1/listings/candle-trio").await.status,
        StatusCode::NOT_FOUND
    );
}

/// The zone is checked against the IANA database: its legacy names are stored, names that
/// only look right are refused, and so are times whose offset is not the zone's then.
#[tokio::test]
async fn pop_up_time_zones_are_checked_against_the_iana_database() {
    let server = TestServer::new().await;
    // (timezone, opens_at, closes_at) → None when stored, else (field, words of the message).
    let winter = ("2036-12-05T10:00:00+01:00", "2036-12-05T16:00:00+01:00");
    type Case<'a> = (&'a str, (&'a str, &'a str), Option<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        ("Europe/Paris", winter, None),
        ("CET", winter, None),
        ("Etc/GMT-1", winter, None),
        (
            "US/Eastern",
            ("2036-12-05T10:00:00-05:00", "2036-12-05T16:00:00-05:00"),
            None,
        ),
        (
            "EST5EDT",
            ("2036-07-05T10:00:00-04:00", "2036-07-05T16:00:00-04:00"),
            None,
        ),
        (
            "Etc/GMT+5",
            ("2036-07-05T10:00:00-05:00", "2036-07-05T16:00:00-05:00"),
            None,
        ),
        (
            "GMT",
            ("2036-07-05T10:00:00+00:00", "2036-07-05T16:00:00+00:00"),
            None,
        ),
        // `Z` gives the instant without claiming a local offset: it fits any zone.
        (
            "Asia/Tokyo",
            ("2036-12-05T01:00:00Z", "2036-12-05T07:00:00Z"),
            None,
        ),
        // Daylight saving time: Paris is at +02:00 in July.
        (
            "Europe/Paris",
            ("2036-07-05T10:00:00+02:00", "2036-07-05T16:00:00+02:00"),
            None,
        ),
        (
            "Europe/Lyon",
            winter,
            Some((
                "drop.popup.timezone",
                "\"Europe/Lyon\" is not in the IANA time zone database; name the zone of the pop-up's place as the database does, e.g. \"Europe/Paris\"",
            )),
        ),
        (
            "Paris",
            winter,
            Some((
                "drop.popup.timezone",
                "\"Paris\" is not in the IANA time zone database",
            )),
        ),
        (
            "America/Gotham",
            winter,
            Some((
                "drop.popup.timezone",
                "\"America/Gotham\" is not in the IANA time zone database",
            )),
        ),
        (
            "Europe/PARIS",
            winter,
            Some((
                "drop.popup.timezone",
                "\"Europe/PARIS\" is spelled \"Europe/Paris\"",
            )),
        ),
        (
            "America/New_York",
            winter,
            Some((
                "drop.popup.opens_at",
                "drop.popup.opens_at: \"2036-12-05T10:00:00+01:00\" is written with offset +01:00, but America/New_York is at -05:00 then; if 10:00 is the local time there, write \"2036-12-05T10:00:00-05:00\"; if the pop-up is elsewhere, correct drop.popup.timezone (opens_at and the zone must agree); drop.popup.closes_at: \"2036-12-05T16:00:00+01:00\" is written with offset +01:00",
            )),
        ),
        // Summer time forgotten: the opening in July written with Paris's winter offset.
        (
            "Europe/Paris",
            ("2036-07-05T10:00:00+01:00", "2036-07-05T16:00:00+02:00"),
            Some((
                "drop.popup.opens_at",
                "but Europe/Paris is at +02:00 then; if 10:00 is the local time there, write \"2036-07-05T10:00:00+02:00\"",
            )),
        ),
        // Only the closing time is wrong: it is the one named.
        (
            "Europe/Paris",
            ("2036-12-05T10:00:00+01:00", "2036-12-05T16:00:00+02:00"),
            Some((
                "drop.popup.closes_at",
                "drop.popup.closes_at: \"2036-12-05T16:00:00+02:00\" is written with offset +02:00, but Europe/Paris is at +01:00 then",
            )),
        ),
    ];
    for (index, (zone, (opens_at, closes_at), refusal)) in cases.into_iter().enumerate() {
        let id = format!("tz-{index}");
        let mut document = listing_with_popup(&id);
        document["drop"]["popup"]["timezone"] = json!(zone);
        document["drop"]["popup"]["opens_at"] = json!(opens_at);
        document["drop"]["popup"]["closes_at"] = json!(closes_at);
        let response = server.put_listing(&id, document).await;
        match refusal {
            None => assert_eq!(
                response.status,
                StatusCode::CREATED,
                "{zone}: {}",
                response.text()
            ),
            Some((field, words)) => {
                assert_eq!(
                    response.status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{zone} {opens_at}: {}",
                    response.text()
                );
                let error = &response.json()["error"];
                assert_eq!(error["code"], "invalid_request", "{error}");
                assert_eq!(error["field"], field, "{zone} {opens_at}: {error}");
                let message = error["message"].as_str().unwrap();
                assert!(message.contains(words), "{zone} {opens_at}: {message}");
                assert_eq!(
                    server.get(&format!("/v1/listings/{id}")).await.status,
                    StatusCode::NOT_FOUND,
                    "{zone}: nothing stored"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_checkout_may_ask_only_for_a_fulfilment_its_offer_allows() {
    let server = server_with_popup().await;
    let cases = [
        // (offer, asked for, expected)
        ("trio", Some("pickup"), Ok(Some("pickup"))),
        ("trio", Some("ship"), Ok(Some("ship"))),
        // An offer that allows both, asked for neither, ships: what every client before
        // pick-up meant (docs/server.md).
        ("trio", None, Ok(Some("ship"))),
        ("stand", None, Ok(Some("pickup"))),
        (
            "stand",
            Some("ship"),
            Err("\"ship\" is not offered for this offer; it is only picked up at the pop-up"),
        ),
        (
            "stand",
            Some("deliver"),
            Err("fulfilment must be \"ship\" or \"pickup\", not the string \"deliver\""),
        ),
        ("trio", Some("Pickup"), Err("")),
        (
            "club",
            Some("ship"),
            Err("\"ship\" is not possible: this offer is neither shipped nor picked up"),
        ),
    ];
    for (index, (offer_id, asked, expected)) in cases.into_iter().enumerate() {
        let mut body = checkout_body(offer_id, asked);
        if offer_id == "club" {
            body["tier_id"] = json!("monthly");
        }
        let response = server.checkout(&format!("key-{index}"), &body).await;
        match expected {
            Ok(fulfilment) => {
                assert_eq!(
                    response.status,
                    StatusCode::CREATED,
                    "{offer_id} {asked:?}: {}",
                    response.text()
                );
                let session_id = response.json()["session_id"].as_str().unwrap().to_string();
                let state = server.session_state(&session_id, None).await;
                assert_eq!(
                    state["fulfilment"].as_str(),
                    fulfilment,
                    "{offer_id} {asked:?}"
                );
                let stored = server
                    .state
                    .store(move |store| store.session(&session_id))
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(stored.fulfilment.as_deref(), fulfilment);
                assert_eq!(
                    stored.ships,
                    fulfilment == Some("ship"),
                    "no address for a pick-up"
                );
            }
            Err(message) => {
                assert_eq!(
                    response.status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{offer_id} {asked:?}: {}",
                    response.text()
                );
                let error = &response.json()["error"];
                assert_eq!(error["code"], "invalid_request");
                assert_eq!(error["field"], "fulfilment", "{error}");
                if !message.is_empty() {
                    assert_eq!(error["message"], message);
                }
            }
        }
    }
    // A membership asked for nothing has no fulfilment.
    let mut body = TestServer::checkout_body("club", Some("monthly"), 1);
    body["fulfilment"] = Value::Null;
    let response = server.checkout("key-club", &body).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    let state = server
        .session_state(response.json()["session_id"].as_str().unwrap(), None)
        .await;
    assert!(state.get("fulfilment").is_none(), "{state}");
}

/// A fulfilment of the wrong kind, in a checkout body or a listing, is refused naming the field
/// and the values it takes, never in serde's words ("expected string or map").
#[tokio::test]
async fn a_wrong_fulfilment_names_the_field_and_its_values() {
    let server = server_with_popup().await;
    let refusals: Vec<(Value, &str)> = vec![
        (
            json!(7),
            "fulfilment must be \"ship\" or \"pickup\", not the number 7",
        ),
        (
            json!("deliver"),
            "fulfilment must be \"ship\" or \"pickup\", not the string \"deliver\"",
        ),
        (
            json!("Pickup"),
            "fulfilment must be \"ship\" or \"pickup\", not the string \"Pickup\"",
        ),
        (
            json!(["pickup"]),
            "fulfilment must be \"ship\" or \"pickup\", not a list",
        ),
        (
            json!({ "pickup": true }),
            "fulfilment must be \"ship\" or \"pickup\", not an object",
        ),
        (
            json!(true),
            "fulfilment must be \"ship\" or \"pickup\", not true",
        ),
    ];
    for (index, (fulfilment, message)) in refusals.into_iter().enumerate() {
        let mut body = checkout_body("trio", None);
        body["fulfilment"] = fulfilment.clone();
        let response = server.checkout(&format!("wrong-{index}"), &body).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{fulfilment}: {}",
            response.text()
        );
        let error = &response.json()["error"];
        assert_eq!(error["code"], "invalid_request", "{error}");
        assert_eq!(error["field"], "fulfilment", "{error}");
        assert_eq!(error["message"], message, "{fulfilment}");
    }

    // The listing's own `fulfilment` (a list) is read by core's json_reader, never serde:
    // the JSON path, what was found and what belongs there.
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!(7),
            "offers[0].fulfilment",
            "offers[0].fulfilment: expected a list, found the number 7",
        ),
        (
            json!("pickup"),
            "offers[0].fulfilment",
            "offers[0].fulfilment: expected a list, found the string \"pickup\"",
        ),
        (
            json!(["ship", 7]),
            "offers[0].fulfilment[1]",
            "offers[0].fulfilment[1]: expected a string, found the number 7",
        ),
        (
            json!(["ship", "deliver"]),
            "offers[0].fulfilment[1]",
            "offers[0].fulfilment[1]: \"deliver\" is not a fulfilment; use \"ship\" or \"pickup\"",
        ),
    ];
    for (fulfilment, field, message) in cases {
        let mut document = listing_with_popup("candle-trio");
        document["offers"][0]["fulfilment"] = fulfilment.clone();
        let response = server.put_listing("candle-trio", document).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{fulfilment}: {}",
            response.text()
        );
        let error = &response.json()["error"];
        assert_eq!(error["field"], field, "{fulfilment}: {error}");
        assert_eq!(error["message"], message, "{fulfilment}");
    }
}

/// Once the pop-up has closed nobody hands a pick-up over: a checkout for one is refused
/// (naming `fulfilment`), shipping still sells, and a pick-up-only offer no longer does.
#[tokio::test]
async fn no_pick_up_is_sold_once_the_pop_up_closed() {
    let server = TestServer::new().await;
    let now = server.seller_now().await.0;
    let mut document = listing_with_popup("candle-trio");
    document["drop"]["popup"]["opens_at"] = json!(Timestamp(now + 3_600).to_rfc3339());
    document["drop"]["popup"]["closes_at"] = json!(Timestamp(now + 7_200).to_rfc3339());
    let put = server.put_listing("candle-trio", document).await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.text());
    // Before it closes (here, before it even opens) a pick-up sells.
    open(&server, "trio", Some("pickup")).await;
    open(&server, "stand", None).await;

    assert_eq!(server.advance_clock(7_200).await.status, StatusCode::OK);
    for (index, (offer_id, asked, suggestion)) in [
        ("trio", Some("pickup"), "choose \"ship\" instead"),
        ("stand", None, "this offer can no longer be bought"),
        (
            "stand",
            Some("pickup"),
            "this offer can no longer be bought",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let response = server
            .checkout(&format!("late-{index}"), &checkout_body(offer_id, asked))
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{offer_id} {asked:?}: {}",
            response.text()
        );
        let error = &response.json()["error"];
        assert_eq!(error["field"], "fulfilment", "{error}");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.starts_with("the pop-up closed at ") && message.ends_with(suggestion),
            "{message}"
        );
    }
    // Shipping is not the pop-up's business.
    open(&server, "trio", Some("ship")).await;
    open(&server, "trio", None).await;
}

#[tokio::test]
async fn a_pick_up_is_paid_without_an_address_and_found_by_its_code() {
    let server = server_with_popup().await;
    let (receiver, address) = receiver::start("127.0.0.1:0".parse().unwrap(), 0).await;
    let registered = server
        .seller_post(
            "/v1/webhooks",
            json!({ "url": format!("http://{address}/hook") }),
        )
        .await;
    assert_eq!(registered.status, StatusCode::CREATED);

    let (session_id, secret) = open(&server, "trio", Some("pickup")).await;
    // The pay page says where and when, and asks for no shipping address.
    let form = server.get(&format!("/pay/{session_id}")).await.text();
    assert!(form.contains("Picked up at the pop-up stand"), "{form}");
    assert!(form.contains("Croix-Rousse night market"));
    assert!(
        form.contains("2036-12-05 10:00–16:00 (UTC+01:00), Europe/Paris"),
        "{form}"
    );
    assert!(
        !form.contains("autocomplete=\"shipping"),
        "no shipping fields"
    );
    // Paid without one.
    let receipt = server.pay(&session_id, "4242424242424242", &[]).await;
    assert_eq!(receipt.status, StatusCode::OK, "{}", receipt.text());
    let receipt = receipt.text();
    assert!(receipt.contains("Payment received"), "{receipt}");

    let orders = server.seller_get("/v1/orders").await.json()["orders"].clone();
    let order = &orders[0];
    assert_eq!(order["fulfilment"], "pickup");
    assert_eq!(order["shipping"], Value::Null);
    let code = order["pickup_code"].as_str().unwrap().to_string();
    assert_eq!(
        mighty_core::pickup::normalize_pickup_code(&code).as_deref(),
        Some(code.as_str())
    );
    // The receipt shows it (to the payer, grouped for reading aloud) with where and when.
    let shown = mighty_core::pickup::display_pickup_code(&code);
    assert!(receipt.contains(&shown), "{receipt}");
    assert!(receipt.contains(ADDRESS.split(';').next().unwrap()));
    // Anyone else with the session id sees the receipt without the code.
    let other = server.get(&format!("/pay/{session_id}")).await.text();
    assert!(
        other.contains("Payment received") && !other.contains(&shown),
        "{other}"
    );
    // The widget that holds the session secret gets it; nobody else does.
    let state = server.session_state(&session_id, Some(&secret)).await;
    assert_eq!(
        (state["fulfilment"].as_str(), state["pickup_code"].as_str()),
        (Some("pickup"), Some(code.as_str()))
    );
    let state = server.session_state(&session_id, None).await;
    assert_eq!(state["fulfilment"], "pickup");
    assert!(state.get("pickup_code").is_none(), "{state}");

    // At the stand: the seller types it however it was read out.
    let typed = format!("{}-{} ", code[..3].to_lowercase(), code[3..].to_lowercase());
    for query in [code.clone(), typed.replace(' ', "%20"), shown.clone()] {
        let found = server
            .seller_get(&format!("/v1/orders?pickup_code={query}"))
            .await;
        assert_eq!(found.status, StatusCode::OK, "{query}: {}", found.text());
        let found = found.json()["orders"].clone();
        assert_eq!(found.as_array().unwrap().len(), 1, "{query}");
        assert_eq!(found[0]["id"], order["id"]);
    }
    let unknown = if code == "222222" { "333333" } else { "222222" };
    let none = server
        .seller_get(&format!("/v1/orders?pickup_code={unknown}"))
        .await;
    assert_eq!(none.json()["orders"], json!([]));
    for bad in ["12345", "ABCDE0", "7KQ4XPP"] {
        let refused = server
            .seller_get(&format!("/v1/orders?pickup_code={bad}"))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(refused.json()["error"]["field"], "pickup_code");
    }
    // Another seller's code finds nothing for this one, and this one's nothing for them.
    let other_token = "msk_other_pickup_seller_token_1";
    server
        .state
        .store(move |store| store.add_seller("Other", other_token, 0))
        .await
        .unwrap();
    let theirs = server
        .request(
            Method::GET,
            &format!("/v1/orders?pickup_code={code}"),
            &[("authorization", &format!("Bearer {other_token}"))],
            None,
        )
        .await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert_eq!(theirs.json()["orders"], json!([]));

    // The webhook says both.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    assert_eq!(deliver_due(&server.state, &client).await.unwrap(), 1);
    let event = receiver.received()[0].json();
    assert_eq!(event["type"], "checkout.session.completed");
    assert_eq!(event["data"]["session"]["fulfilment"], "pickup");
    assert_eq!(event["data"]["order"]["fulfilment"], "pickup");
    assert_eq!(event["data"]["order"]["pickup_code"], code.as_str());
}

#[tokio::test]
async fn shipping_still_asks_for_the_address_and_has_no_code() {
    let server = server_with_popup().await;
    let (session_id, secret) = open(&server, "trio", Some("ship")).await;
    let form = server.get(&format!("/pay/{session_id}")).await.text();
    assert!(
        form.contains("autocomplete=\"shipping address-line1\""),
        "{form}"
    );
    assert!(form.contains("Shipped to you"));
    let missing = server.pay(&session_id, "4242424242424242", &[]).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    let paid = server
        .pay(&session_id, "4242424242424242", TestServer::SHIPPING)
        .await;
    assert!(paid.text().contains("Payment received"));
    let order = server.seller_get("/v1/orders").await.json()["orders"][0].clone();
    assert_eq!(order["fulfilment"], "ship");
    assert_eq!(order["pickup_code"], Value::Null);
    assert_eq!(order["shipping"]["city"], "Lyon");
    let state = server.session_state(&session_id, Some(&secret)).await;
    assert!(state.get("pickup_code").is_none());
}

#[tokio::test]
async fn pick_up_codes_are_distinct_within_a_seller() {
    let server = server_with_popup().await;
    let mut codes = HashSet::new();
    for _ in 0..12 {
        let (session_id, _) = open(&server, "stand", None).await;
        let receipt = server.pay(&session_id, "4242424242424242", &[]).await;
        assert!(
            receipt.text().contains("Pick-up code"),
            "{}",
            receipt.text()
        );
    }
    let orders = server.seller_get("/v1/orders").await.json()["orders"].clone();
    for order in orders.as_array().unwrap() {
        assert_eq!(order["fulfilment"], "pickup");
        let code = order["pickup_code"].as_str().unwrap();
        assert_eq!(code.len(), 6);
        assert!(!code.contains(['0', 'O', '1', 'I']), "{code}");
        assert!(codes.insert(code.to_string()), "{code} twice");
    }
    assert_eq!(codes.len(), 12);
    // The stand's other listing: a renewal or a membership never gets one.
    let seller = SELLER;
    let membership = server.buy_membership().await;
    let orders = server
        .request(
            Method::GET,
            "/v1/orders",
            &[("authorization", &format!("Bearer {seller}"))],
            None,
        )
        .await
        .json()["orders"]
        .clone();
    let membership_order = orders
        .as_array()
        .unwrap()
        .iter()
        .find(|order| order["session_id"] == membership.0.as_str())
        .unwrap();
    assert_eq!(membership_order["fulfilment"], Value::Null);
    assert_eq!(membership_order["pickup_code"], Value::Null);
}
