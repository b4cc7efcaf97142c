//! The seller dashboard: sign-in with the token into an HttpOnly, SameSite=Strict session
//! cookie, the listing page's charts and tables, CSV export, sign-out.

mod support;

use axum::http::{Method, StatusCode, header};
use scraper::{Html, Selector};
use serde_json::json;
use support::{SELLER, TestServer};

async fn sign_in(server: &TestServer, token: &str) -> support::Response {
    let request = axum::http::Request::post("/dashboard/sign-in")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(format!("token={token}")))
        .unwrap();
    server.send(request).await
}

#[tokio::test]
async fn a_seller_signs_in_once_and_reads_the_numbers() {
    let server = TestServer::with_listing().await;
    let session = server.open_session("trio", None).await;
    server
        .pay(&session, "4242424242424242", TestServer::SHIPPING)
        .await;
    let events = json!([{ "id": "v1", "type": "view", "listing_id": "candle-trio", "creator": null, "variant": "ana", "visitor_id": "x", "at": server.state.now().to_rfc3339() }]);
    server
        .request(
            Method::POST,
            "/v1/events",
            &[("origin", support::DIRECTORY)],
            Some(events.to_string()),
        )
        .await;

    let anonymous = server.get("/dashboard").await;
    assert!(
        anonymous.text().contains("Seller token"),
        "the sign-in form"
    );
    let wrong = sign_in(&server, "nope").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.text().contains("That token is not a seller"));

    let signed = sign_in(&server, SELLER).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text());
    let cookie = signed.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    let session_cookie = cookie.split(';').next().unwrap().to_string();
    let with_cookie = |path: &str| {
        let request = axum::http::Request::get(path)
            .header("cookie", session_cookie.as_str())
            .body(axum::body::Body::empty())
            .unwrap();
        server.send(request)
    };

    let home = with_cookie("/dashboard").await;
    assert!(
        home.text()
            .contains("href=\"/dashboard/listings/candle-trio\"")
    );
    let listing = with_cookie("/dashboard/listings/candle-trio").await;
    assert_eq!(listing.status, StatusCode::OK);
    assert!(
        listing.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .starts_with("default-src 'self'")
    );
    let html = listing.text();
    for expected in [
        "role=\"img\"",
        "<title id=\"funnel-title\">",
        "<desc id=\"conversion-desc\">",
        "Revenue per week",
        "Cohort retention",
        "<caption>Funnel",
    ] {
        assert!(html.contains(expected), "missing {expected}");
    }
    assert!(
        !html.contains(" style="),
        "no style attributes under the strict CSP"
    );

    let csv = with_cookie("/dashboard/listings/candle-trio/segments.csv").await;
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let text = csv.text();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("segment,views,paid commits,conversion,95 % interval,30-day repeat,revenue")
    );
    assert!(text.contains("link: ana"), "{text}");
    assert_eq!(
        with_cookie("/dashboard/listings/candle-trio/nope.csv")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server
            .get("/dashboard/listings/candle-trio/segments.csv")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    let sign_out = axum::http::Request::post("/dashboard/sign-out")
        .header("cookie", session_cookie.as_str())
        .body(axum::body::Body::empty())
        .unwrap();
    let out = server.send(sign_out).await;
    assert!(
        out.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert!(
        with_cookie("/dashboard")
            .await
            .text()
            .contains("Seller token"),
        "the session is over"
    );
}

/// Signs the test seller in; the session cookie (`name=value`).
async fn session_cookie(server: &TestServer) -> String {
    let signed = sign_in(server, SELLER).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text());
    signed.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

async fn dashboard_page(server: &TestServer, cookie: &str, listing: &str) -> String {
    let request = axum::http::Request::get(format!("/dashboard/listings/{listing}"))
        .header("cookie", cookie)
        .body(axum::body::Body::empty())
        .unwrap();
    let page = server.send(request).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    page.text()
}

/// A bundle bought through `creator`'s link (else with `variant`'s demo shown) from `source`,
/// paid on the pay page.
async fn buy(
    server: &TestServer,
    key: &str,
    creator: Option<&str>,
    variant: &str,
    source: Option<&str>,
) {
    let mut body = TestServer::checkout_body("trio", None, 1);
    body["attribution"]["creator"] = json!(creator);
    body["attribution"]["variant"] = json!(variant);
    if let Some(source) = source {
        body["attribution"]["utm"] = json!({ "source": source });
    }
    let session = server.checkout(key, &body).await;
    assert_eq!(session.status, StatusCode::CREATED, "{}", session.text());
    let id = session.json()["session_id"].as_str().unwrap().to_string();
    let receipt = server
        .pay(&id, "4242424242424242", TestServer::SHIPPING)
        .await;
    assert!(
        receipt.text().contains("Payment received"),
        "{}",
        receipt.text()
    );
}

/// Server-sent events (seller token, no Origin): `count` of `kind` for `variant`, `days_ago`.
async fn events(server: &TestServer, kind: &str, variant: &str, count: usize, days_ago: i64) {
    let at = mighty_core::Timestamp(server.seller_now().await.0 - days_ago * 86_400).to_rfc3339();
    let batch: Vec<_> = (0..count)
        .map(|index| json!({ "id": format!("{kind}-{variant}-{days_ago}-{index}"), "type": kind, "listing_id": "candle-trio",
            "creator": null, "variant": variant, "visitor_id": format!("v-{variant}-{index}"), "at": at }))
        .collect();
    let response = server
        .request(
            Method::POST,
            "/v1/events",
            &[("authorization", &format!("Bearer {SELLER}"))],
            Some(json!({ "events": batch }).to_string()),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
}

fn select<'a>(html: &'a Html, selector: &str) -> Vec<scraper::ElementRef<'a>> {
    html.select(&Selector::parse(selector).unwrap()).collect()
}

fn number(element: &scraper::ElementRef, attribute: &str) -> f64 {
    element
        .value()
        .attr(attribute)
        .unwrap_or_else(|| panic!("no {attribute} on {:?}", element.value()))
        .parse()
        .unwrap()
}

/// The chart's axis read back: position → value, from its first and last labelled ticks.
fn axis(svg: &scraper::ElementRef, position: &str) -> impl Fn(f64) -> f64 {
    let ticks: Vec<(f64, f64)> = svg
        .select(&Selector::parse("g.value-axis g.tick").unwrap())
        .map(|tick| {
            let line = tick
                .select(&Selector::parse("line").unwrap())
                .next()
                .unwrap();
            (number(&tick, "data-value"), number(&line, position))
        })
        .collect();
    assert!(ticks.len() >= 2, "an axis with labelled ticks");
    let ((v0, p0), (v1, p1)) = (ticks[0], ticks[ticks.len() - 1]);
    move |at: f64| v0 + (at - p0) * (v1 - v0) / (p1 - p0)
}

/// The rows of the table in the figure around `svg#id`: each row's cells as text.
fn table_rows(html: &Html, id: &str) -> Vec<Vec<String>> {
    let figure = select(html, "figure")
        .into_iter()
        .find(|figure| {
            figure
                .select(&Selector::parse(&format!("svg#{id}")).unwrap())
                .next()
                .is_some()
        })
        .unwrap_or_else(|| panic!("no figure around svg#{id}"));
    figure
        .select(&Selector::parse("details table tbody tr").unwrap())
        .map(|row| {
            row.children()
                .filter_map(scraper::ElementRef::wrap)
                .map(|cell| cell.text().collect::<String>().trim().to_string())
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn the_charts_draw_the_numbers_of_their_tables() {
    let server = TestServer::with_listing().await;
    // Views and the funnel's steps, spread over the weeks (events keep their own `at`).
    events(&server, "view", "ana", 30, 20).await;
    events(&server, "view", "theo", 25, 10).await;
    events(&server, "demo-play", "ana", 12, 20).await;
    events(&server, "demo-play", "theo", 14, 10).await;
    events(&server, "checkout-start", "theo", 9, 10).await;
    // Purchases in three weeks: the clock moves a week between them.
    buy(&server, "w0-a", Some("ana"), "ana", Some("instagram")).await;
    buy(&server, "w0-b", None, "theo", None).await;
    server.advance_clock(7 * 86_400).await;
    buy(&server, "w1-a", None, "theo", Some("newsletter")).await;
    server.advance_clock(7 * 86_400).await;
    for key in ["w2-a", "w2-b", "w2-c"] {
        buy(&server, key, None, "theo", Some("instagram")).await;
    }

    let metrics = server
        .seller_get("/v1/metrics?listing=candle-trio")
        .await
        .json();
    assert_eq!(
        metrics["funnel"],
        json!({ "views": 55, "demo_plays": 26, "checkout_starts": 9, "paid_commits": 6 })
    );
    let cookie = session_cookie(&server).await;
    let text = dashboard_page(&server, &cookie, "candle-trio").await;
    let html = Html::parse_document(&text);

    // No style attribute anywhere (the strict CSP); every chart an image named by its title
    // and description, which exist under the ids it names.
    assert!(select(&html, "[style]").is_empty(), "no style attributes");
    let charts = select(&html, "svg[role=img]");
    assert!(charts.len() >= 6, "{} charts", charts.len());
    for chart in &charts {
        let labelled_by = chart.value().attr("aria-labelledby").unwrap();
        for id in labelled_by.split_whitespace() {
            let named = select(&html, &format!("#{id}"));
            assert_eq!(named.len(), 1, "{id}");
            assert!(
                !named[0].text().collect::<String>().trim().is_empty(),
                "{id} says something"
            );
        }
        assert!(
            ["title", "desc"].iter().all(|tag| chart
                .children()
                .filter_map(scraper::ElementRef::wrap)
                .any(|child| child.value().name() == *tag)),
            "title and desc in {:?}",
            chart.value().attr("id")
        );
    }

    // Revenue per week: eight points where the table's amounts are on the chart's own axis,
    // and the table's sum is what was paid (6 × 24.00 EUR).
    let revenue = select(&html, "svg#revenue").remove(0);
    let to_value = axis(&revenue, "y1");
    let points: Vec<f64> = revenue
        .select(&Selector::parse("circle.point").unwrap())
        .map(|point| to_value(number(&point, "cy")))
        .collect();
    let weeks = table_rows(&html, "revenue");
    assert_eq!((points.len(), weeks.len()), (8, 8));
    let mut total = 0.0;
    for (drawn, row) in points.iter().zip(&weeks) {
        let amount: f64 = row[1]
            .split_whitespace()
            .next()
            .unwrap()
            .parse::<f64>()
            .unwrap()
            * 100.0;
        assert!((drawn - amount).abs() < 30.0, "{row:?} drawn at {drawn}");
        total += amount;
    }
    assert_eq!(total, 6.0 * 2400.0);
    let last_three: Vec<&str> = weeks[5..].iter().map(|row| row[1].as_str()).collect();
    assert_eq!(last_three, ["48.00 EUR", "24.00 EUR", "72.00 EUR"]);

    // The funnel: the metrics' counts, bars proportional to them.
    let bars: Vec<(f64, f64)> = select(&html, "svg#funnel rect.bar")
        .iter()
        .map(|bar| (number(bar, "data-value"), number(bar, "width")))
        .collect();
    assert_eq!(
        bars.iter().map(|(count, _)| *count).collect::<Vec<_>>(),
        [55.0, 26.0, 9.0, 6.0]
    );
    for (count, width) in &bars {
        assert!(
            (width / bars[0].1 - count / 55.0).abs() < 0.01,
            "{count} → {width}"
        );
    }
    assert_eq!(table_rows(&html, "funnel")[3], ["Paid", "6"]);

    // Conversion per variant: each dot on the axis at the metrics' rate, inside its whisker.
    let conversion = select(&html, "svg#conversion").remove(0);
    let to_rate = axis(&conversion, "x1");
    let drawn: Vec<(f64, f64, f64)> = conversion
        .select(&Selector::parse("g.interval").unwrap())
        .map(|group| {
            let dot = group
                .select(&Selector::parse("circle").unwrap())
                .next()
                .unwrap();
            let whisker = group
                .select(&Selector::parse("line.whisker").unwrap())
                .next()
                .unwrap();
            (
                to_rate(number(&dot, "cx")),
                to_rate(number(&whisker, "x1")),
                to_rate(number(&whisker, "x2")),
            )
        })
        .collect();
    let expected: Vec<&serde_json::Value> = metrics["segments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|segment| segment["conversion"]["value"].is_number())
        .collect();
    assert_eq!(drawn.len(), expected.len());
    for ((value, low, high), segment) in drawn.iter().zip(&expected) {
        let rate = &segment["conversion"];
        for (got, want) in [(value, "value"), (low, "low"), (high, "high")] {
            assert!(
                (got - rate[want].as_f64().unwrap()).abs() < 0.002,
                "{segment} {want}: {got}"
            );
        }
    }

    // Cohorts: a heat map cell per observable week, coloured by its share.
    let cells = select(&html, "svg#cohorts rect.cell");
    assert!(!cells.is_empty());
    for cell in &cells {
        let share = number(cell, "data-value");
        assert_eq!(
            cell.value().attr("fill").unwrap(),
            mighty_core::chart::heat_colour(share).hex()
        );
    }

    // Where the revenue comes from: bars per creator and per source, the table beside them.
    let sources: Vec<f64> = select(&html, "svg#by-source rect.bar")
        .iter()
        .map(|bar| number(bar, "data-value"))
        .collect();
    assert_eq!(sources, [4.0 * 2400.0, 2400.0, 2400.0]);
    assert_eq!(
        table_rows(&html, "by-source")[0],
        ["instagram", "96.00 EUR", "66.7 %"]
    );
}

/// A UTM source typed with other capitals in different links is still one source: its
/// revenue is counted together (here 4 of 6 orders, over 60 %), named as most orders spelled
/// it, and the raw attribution of each order is kept as it came.
#[tokio::test]
async fn sources_that_differ_only_in_case_are_one_source() {
    let server = TestServer::with_listing().await;
    let cookie = session_cookie(&server).await;
    for (index, (creator, source)) in [
        ("ana", "Instagram"),
        ("ana", "instagram"),
        ("theo", "Instagram"),
        ("theo", "INSTAGRAM"),
        ("ana", "newsletter"),
        ("theo", "Newsletter"),
    ]
    .into_iter()
    .enumerate()
    {
        buy(
            &server,
            &format!("case-{index}"),
            Some(creator),
            creator,
            Some(source),
        )
        .await;
    }
    let metrics = server
        .seller_get("/v1/metrics?listing=candle-trio")
        .await
        .json();
    let by_source = &metrics["concentration"]["by_source"];
    assert_eq!(
        by_source["parts"],
        json!([
            { "key": "Instagram", "revenue": 4 * 2400, "share": 4.0 / 6.0 },
            { "key": "Newsletter", "revenue": 2 * 2400, "share": 2.0 / 6.0 }
        ]),
        "{by_source}"
    );
    assert_eq!(by_source["dominant"]["key"], "Instagram");
    let page = dashboard_page(&server, &cookie, "candle-trio").await;
    let html = Html::parse_document(&page);
    assert_eq!(
        table_rows(&html, "by-source")[0],
        ["Instagram", "96.00 EUR", "66.7 %"]
    );
    let warnings: Vec<String> = select(&html, ".warning")
        .iter()
        .map(|warning| warning.text().collect())
        .collect();
    assert!(
        warnings.iter().any(
            |warning| warning.starts_with("One source brings 67 % of your revenue: Instagram.")
        ),
        "{warnings:?}"
    );
    // Each order keeps its source as it came.
    let orders = server.seller_get("/v1/orders").await.json();
    let mut sources: Vec<String> = orders["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|order| {
            order["attribution"]["utm"]["source"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    sources.sort();
    assert_eq!(
        sources,
        [
            "INSTAGRAM",
            "Instagram",
            "Instagram",
            "Newsletter",
            "instagram",
            "newsletter"
        ]
    );
}

#[tokio::test]
async fn one_creator_or_source_over_sixty_percent_is_a_warning_exactly_sixty_is_not() {
    let server = TestServer::with_listing().await;
    let cookie = session_cookie(&server).await;
    let warnings = |text: &str| {
        select(&Html::parse_document(text), ".warning")
            .iter()
            .map(|warning| warning.text().collect::<String>())
            .collect::<Vec<_>>()
    };
    // No revenue: no warning.
    let metrics = server
        .seller_get("/v1/metrics?listing=candle-trio")
        .await
        .json();
    assert_eq!(metrics["concentration"]["by_creator"]["total"], 0);
    assert!(metrics["concentration"]["by_creator"]["dominant"].is_null());
    assert!(warnings(&dashboard_page(&server, &cookie, "candle-trio").await).is_empty());

    // Three of five equal orders: exactly 60 %, for a creator and for a source: no warning.
    for (index, (creator, source)) in [
        ("ana", "instagram"),
        ("ana", "instagram"),
        ("ana", "instagram"),
        ("theo", "newsletter"),
        ("theo", "newsletter"),
    ]
    .into_iter()
    .enumerate()
    {
        buy(
            &server,
            &format!("sixty-{index}"),
            Some(creator),
            creator,
            Some(source),
        )
        .await;
    }
    let metrics = server
        .seller_get("/v1/metrics?listing=candle-trio")
        .await
        .json();
    let by_creator = &metrics["concentration"]["by_creator"];
    assert_eq!(
        by_creator["parts"][0],
        json!({ "key": "ana", "revenue": 7200, "share": 0.6 })
    );
    assert!(by_creator["dominant"].is_null(), "{by_creator}");
    assert!(metrics["concentration"]["by_source"]["dominant"].is_null());
    assert!(warnings(&dashboard_page(&server, &cookie, "candle-trio").await).is_empty());

    // A fourth: 4 of 6, over 60 %: both warn, on the page and in the JSON.
    buy(&server, "sixty-5", Some("ana"), "ana", Some("instagram")).await;
    let metrics = server
        .seller_get("/v1/metrics?listing=candle-trio")
        .await
        .json();
    assert_eq!(
        metrics["concentration"]["by_creator"]["dominant"]["key"],
        "ana"
    );
    assert_eq!(
        metrics["concentration"]["by_source"]["dominant"]["key"],
        "instagram"
    );
    let shown = warnings(&dashboard_page(&server, &cookie, "candle-trio").await);
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(
        shown[0].starts_with("One creator brings 67 % of your revenue: ana."),
        "{shown:?}"
    );
    assert!(
        shown[1].starts_with("One source brings 67 % of your revenue: instagram."),
        "{shown:?}"
    );

    // The listings page says the same 30 days: six orders of 24.00 EUR.
    let request = axum::http::Request::get("/dashboard")
        .header("cookie", cookie.as_str())
        .body(axum::body::Body::empty())
        .unwrap();
    let home = Html::parse_document(&server.send(request).await.text());
    let row: Vec<String> = select(&home, "table.listings tbody tr")[0]
        .children()
        .filter_map(scraper::ElementRef::wrap)
        .map(|cell| cell.text().collect::<String>().trim().to_string())
        .collect();
    assert_eq!(row, ["Lavender candle trio candle-trio", "144.00 EUR", "6"]);

    // Thirty days later the revenue has left the window: no warning any more.
    server.advance_clock(31 * 86_400).await;
    let metrics = server
        .seller_get("/v1/metrics?listing=candle-trio")
        .await
        .json();
    assert!(metrics["concentration"]["by_source"]["dominant"].is_null());
}
