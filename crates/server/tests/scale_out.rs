//! Several instances on one PostgreSQL database, over real sockets (issue 12): drop stock
//! never oversells, one idempotency key makes one session, each webhook event is delivered
//! once, each renewal happens once, `kill -9` of one instance loses nothing it acknowledged,
//! and a database outage answers 503 and then recovers.
//!
//! Built only with the `scale-out-tests` feature and run by `cargo xtask test` against the
//! throwaway cluster it starts: `MIGHTY_TEST_DATABASE_URL` names its server,
//! `MIGHTY_TEST_PG_STOP` / `MIGHTY_TEST_PG_START` are shell commands that stop and start it.
//! The tests share that server: run them one at a time (`--test-threads=1`).

mod support;

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mighty_server::store::{DatabaseUrl, Store};
use serde_json::{Value, json};
use support::{DIRECTORY, SELLER, TestServer, listing, receiver, temp_root};

const SECRET_KEY: &str = "scale-out-test-key-0123456789abcdef-0123";

fn admin_url() -> String {
    std::env::var("MIGHTY_TEST_DATABASE_URL")
        .expect("MIGHTY_TEST_DATABASE_URL names the PostgreSQL server (cargo xtask test sets it)")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh database on the test server.
fn fresh_database() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    let name = format!("mighty_scale_{}", mighty_core::signing::hex(&bytes));
    mighty_server::store::create_postgres_database(&admin_url(), &name).unwrap()
}

/// One `mighty-server` process; killed with SIGKILL when dropped.
struct Instance {
    child: Child,
    base: String,
}

impl Instance {
    fn start(database: &str, root: &std::path::Path) -> Instance {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_mighty-server"))
            .env("MIGHTY_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", database)
            .env("MIGHTY_SECRET_KEY", SECRET_KEY)
            .env("MIGHTY_SELLER_TOKEN", SELLER)
            .env("MIGHTY_ROOT", root)
            .env("MIGHTY_DB_POOL_SIZE", "8")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        Instance {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill_9();
    }
}

/// Two instances on one fresh database, up and answering.
struct Deployment {
    instances: Vec<Instance>,
    database: String,
    client: reqwest::Client,
    _root: support::Root,
}

impl Deployment {
    async fn start(count: usize) -> Deployment {
        let root = temp_root();
        let database = tokio::task::spawn_blocking(fresh_database).await.unwrap();
        // Started together: they migrate one at a time (the advisory lock).
        let instances: Vec<Instance> = (0..count)
            .map(|_| Instance::start(&database, &root.0))
            .collect();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        for instance in &instances {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let ready = client
                    .get(format!("{}/readyz", instance.base))
                    .send()
                    .await
                    .is_ok_and(|response| response.status().is_success());
                if ready {
                    break;
                }
                assert!(Instant::now() < deadline, "an instance did not come up");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Deployment {
            instances,
            database,
            client,
            _root: root,
        }
    }

    fn base(&self, index: usize) -> &str {
        &self.instances[index % self.instances.len()].base
    }

    /// The store, read directly (what is really in the database).
    async fn store(&self) -> std::sync::Arc<Store> {
        let url = DatabaseUrl::Postgres(self.database.clone());
        std::sync::Arc::new(
            tokio::task::spawn_blocking(move || Store::open_with_pool(&url, 2))
                .await
                .unwrap()
                .unwrap(),
        )
    }

    async fn put_listing(&self, document: Value) {
        let id = document["id"].as_str().unwrap().to_string();
        let response = self
            .client
            .put(format!("{}/v1/listings/{id}", self.base(0)))
            .bearer_auth(SELLER)
            .body(document.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    }

    async fn checkout(&self, instance: usize, key: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}/v1/checkout/sessions", self.base(instance)))
            .header("idempotency-key", key)
            .header("origin", DIRECTORY)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn pay(&self, instance: usize, session_id: &str) -> u16 {
        self.client
            .post(format!("{}/pay/{session_id}", self.base(instance)))
            .form(&[
                ("email", "ana@example.com"),
                ("cc-name", "Ana Ruiz"),
                ("cc-number", "4242424242424242"),
                ("cc-exp", "12/40"),
                ("cc-csc", "123"),
                ("ship-name", "Ana Ruiz"),
                ("ship-address-line1", "1 rue Mercière"),
                ("ship-postal-code", "69002"),
                ("ship-city", "Lyon"),
                ("ship-country", "France"),
            ])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    async fn orders(&self) -> Vec<Value> {
        let orders: Value = self
            .client
            .get(format!("{}/v1/orders", self.base(0)))
            .bearer_auth(SELLER)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        orders["orders"].as_array().unwrap().clone()
    }
}

fn drop_listing(inventory: i64) -> Value {
    let now = mighty_server::clock::real_now();
    let (starts, ends) = (
        mighty_core::Timestamp(now - 60).to_rfc3339(),
        mighty_core::Timestamp(now + 86_400).to_rfc3339(),
    );
    listing("candle-trio", Some((&starts, &ends, inventory)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_checkouts_on_two_instances_sell_a_drop_of_fifty_exactly() {
    let deployment = std::sync::Arc::new(Deployment::start(2).await);
    deployment.put_listing(drop_listing(50)).await;
    let tasks: Vec<_> = (0..200)
        .map(|index| {
            let deployment = deployment.clone();
            tokio::spawn(async move {
                deployment
                    .checkout(
                        index,
                        &format!("shopper-{index}"),
                        &TestServer::checkout_body("trio", None, 1),
                    )
                    .await
            })
        })
        .collect();
    let mut created = 0;
    let mut sold_out = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match (status, body["error"]["code"].as_str()) {
            (201, _) => created += 1,
            (409, Some("sold_out")) => sold_out += 1,
            other => panic!("unexpected answer {other:?}: {body}"),
        }
    }
    assert_eq!((created, sold_out), (50, 150));
    let store = deployment.store().await;
    let stock = tokio::task::spawn_blocking(move || store.listing("candle-trio"))
        .await
        .unwrap()
        .unwrap()
        .unwrap()
        .stock
        .unwrap();
    assert_eq!((stock.reserved, stock.remaining()), (50, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_key_sent_to_both_instances_at_once_makes_one_session() {
    let deployment = Deployment::start(2).await;
    deployment.put_listing(listing("candle-trio", None)).await;
    let body = TestServer::checkout_body("trio", None, 1);
    for attempt in 0..10 {
        let key = format!("same-intent-{attempt}");
        let (first, second) = tokio::join!(
            deployment.checkout(0, &key, &body),
            deployment.checkout(1, &key, &body)
        );
        assert_eq!((first.0, second.0), (201, 201), "{first:?} {second:?}");
        assert_eq!(
            first.1["session_id"], second.1["session_id"],
            "the second waited for the first and got its answer"
        );
        assert_eq!(first.1, second.1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_webhook_event_arrives_once_although_both_instances_deliver() {
    let deployment = Deployment::start(2).await;
    deployment.put_listing(listing("candle-trio", None)).await;
    let (receiver, address) = receiver::start("127.0.0.1:0".parse().unwrap(), 0).await;
    let registered = deployment
        .client
        .post(format!("{}/v1/webhooks", deployment.base(0)))
        .bearer_auth(SELLER)
        .json(&json!({ "url": format!("http://{address}/hook") }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let body = TestServer::checkout_body("trio", None, 1);
    for index in 0..8 {
        let (status, created) = deployment
            .checkout(index, &format!("paid-{index}"), &body)
            .await;
        assert_eq!(status, 201);
        let paid = deployment
            .pay(index + 1, created["session_id"].as_str().unwrap())
            .await;
        assert_eq!(paid, 200);
    }
    // Both instances' workers poll every second; give them time to (not) deliver twice.
    let deadline = Instant::now() + Duration::from_secs(20);
    while receiver.received().len() < 8 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received = receiver.received();
    let ids: Vec<String> = received
        .iter()
        .map(|delivery| delivery.json()["id"].as_str().unwrap().to_string())
        .collect();
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(ids.len(), 8, "{:?}", receiver.types());
    assert_eq!(distinct.len(), ids.len(), "no event id twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_clock_advanced_through_one_instance_renews_each_subscription_once() {
    let deployment = Deployment::start(2).await;
    deployment.put_listing(listing("candle-trio", None)).await;
    let body = TestServer::checkout_body("club", Some("monthly"), 1);
    for index in 0..3 {
        let (status, created) = deployment
            .checkout(index, &format!("member-{index}"), &body)
            .await;
        assert_eq!(status, 201);
        assert_eq!(
            deployment
                .pay(index, created["session_id"].as_str().unwrap())
                .await,
            200
        );
    }
    let advanced = deployment
        .client
        .post(format!("{}/sandbox/clock/advance", deployment.base(0)))
        .bearer_auth(SELLER)
        .json(&json!({ "seconds": 32 * 86_400 }))
        .send()
        .await
        .unwrap();
    assert_eq!(advanced.status(), 200);
    // The other instance's scheduler ticks every 5 s: let it run twice.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let orders = deployment.orders().await;
    let mut renewals: HashMap<String, usize> = HashMap::new();
    for order in orders.iter().filter(|order| order["kind"] == "renewal") {
        *renewals
            .entry(order["subscription_id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(renewals.len(), 3, "{orders:?}");
    assert!(renewals.values().all(|count| *count == 1), "{renewals:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_of_one_instance_mid_burst_loses_nothing_it_acknowledged() {
    let mut deployment = Deployment::start(2).await;
    deployment.put_listing(listing("candle-trio", None)).await;
    let client = deployment.client.clone();
    let bases = [
        deployment.base(0).to_string(),
        deployment.base(1).to_string(),
    ];
    let body = TestServer::checkout_body("trio", None, 1);
    let now = mighty_core::Timestamp(mighty_server::clock::real_now()).to_rfc3339();
    let burst: Vec<_> = (0..120)
        .map(|index| {
            let (client, base, body, now) = (
                client.clone(),
                bases[index % 2].clone(),
                body.clone(),
                now.clone(),
            );
            tokio::spawn(async move {
                // Spread over about a second, so the kill lands in the middle.
                tokio::time::sleep(Duration::from_millis(index as u64 * 10)).await;
                if index % 2 == 0 || index % 3 == 0 {
                    let response = client
                        .post(format!("{base}/v1/checkout/sessions"))
                        .header("idempotency-key", format!("burst-{index}"))
                        .header("origin", DIRECTORY)
                        .json(&body)
                        .send()
                        .await;
                    let session = match response {
                        Ok(response) if response.status() == 201 => response
                            .json::<Value>()
                            .await
                            .ok()
                            .and_then(|created| created["session_id"].as_str().map(String::from)),
                        _ => None,
                    };
                    (index, Some(format!("burst-{index}")), session, false)
                } else {
                    let batch = json!({ "events": [{ "id": format!("view-{index}"), "type": "view", "listing_id": "candle-trio",
                        "creator": null, "variant": "ana", "visitor_id": format!("visitor-{index}"), "at": now }] });
                    let acknowledged = client
                        .post(format!("{base}/v1/events"))
                        .header("origin", DIRECTORY)
                        .header("content-type", "text/plain")
                        .body(batch.to_string())
                        .send()
                        .await
                        .is_ok_and(|response| response.status().is_success());
                    (index, None, None, acknowledged)
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(600)).await;
    deployment.instances[0].kill_9();
    let mut acknowledged_sessions = Vec::new();
    let mut unanswered_keys = Vec::new();
    let mut acknowledged_events = 0;
    let mut sent_events = 0;
    for task in burst {
        let (_, key, session, event_acknowledged) = task.await.unwrap();
        match (key, session) {
            (Some(_), Some(session)) => acknowledged_sessions.push(session),
            (Some(key), None) => unanswered_keys.push(key),
            (None, _) => {
                sent_events += 1;
                acknowledged_events += usize::from(event_acknowledged);
            }
        }
    }
    assert!(
        !unanswered_keys.is_empty() && !acknowledged_sessions.is_empty(),
        "the kill landed in the middle of the burst"
    );
    // What the killed instance acknowledged is there, through the survivor.
    let survivor = &bases[1];
    for session in &acknowledged_sessions {
        let state = client
            .get(format!("{survivor}/v1/checkout/sessions/{session}"))
            .header("origin", DIRECTORY)
            .send()
            .await
            .unwrap();
        assert_eq!(state.status(), 200, "acknowledged session {session}");
    }
    // The shoppers whose answer was lost retry on the survivor with the same key: a session
    // the dead instance committed is answered again, never made twice.
    let mut all_sessions: HashSet<String> = acknowledged_sessions.iter().cloned().collect();
    for key in &unanswered_keys {
        let (status, created) = deployment.checkout(1, key, &body).await;
        assert_eq!(status, 201, "{created}");
        all_sessions.insert(created["session_id"].as_str().unwrap().to_string());
    }
    assert_eq!(
        all_sessions.len(),
        acknowledged_sessions.len() + unanswered_keys.len(),
        "one session per key"
    );
    let store = deployment.store().await;
    let views = tokio::task::spawn_blocking(move || store.view_counts("candle-trio", 0, i64::MAX))
        .await
        .unwrap()
        .unwrap()
        .iter()
        .map(|count| count.views as usize)
        .sum::<usize>();
    assert!(
        (acknowledged_events..=sent_events).contains(&views),
        "{acknowledged_events} acknowledged, {views} stored, {sent_events} sent"
    );
}

fn run_shell(variable: &str) {
    let command = std::env::var(variable)
        .unwrap_or_else(|_| panic!("{variable} is a shell command (cargo xtask test sets it)"));
    let status = Command::new("sh")
        .arg("-c")
        .arg(&command)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{variable}: {command}");
}

/// Starts the database again when dropped.
struct RestartOnDrop;

impl Drop for RestartOnDrop {
    fn drop(&mut self) {
        run_shell("MIGHTY_TEST_PG_START");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_outage_answers_503_then_recovers() {
    let deployment = Deployment::start(2).await;
    deployment.put_listing(listing("candle-trio", None)).await;
    let body = TestServer::checkout_body("trio", None, 1);
    run_shell("MIGHTY_TEST_PG_STOP");
    {
        // The database comes back when this block ends, also when an assertion fails.
        let _restart = RestartOnDrop;
        for index in 0..2 {
            let started = Instant::now();
            let (status, answer) = deployment
                .checkout(index, &format!("outage-{index}"), &body)
                .await;
            assert_eq!(status, 503, "{answer}");
            assert_eq!(answer["error"]["code"], "unavailable", "{answer}");
            assert!(started.elapsed() < Duration::from_secs(15), "no hang");
            let ready = deployment
                .client
                .get(format!("{}/readyz", deployment.base(index)))
                .send()
                .await
                .unwrap();
            assert_eq!(ready.status(), 503);
            let live = deployment
                .client
                .get(format!("{}/healthz", deployment.base(index)))
                .send()
                .await
                .unwrap();
            assert_eq!(
                live.status(),
                200,
                "liveness does not depend on the database"
            );
        }
    }
    for index in 0..2 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (status, answer) = deployment
                .checkout(index, &format!("after-{index}"), &body)
                .await;
            if status == 201 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "instance {index} did not recover: {status} {answer}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

#[test]
fn a_database_newer_than_the_server_is_refused_naming_its_version() {
    let url = DatabaseUrl::Postgres(fresh_database());
    drop(Store::open(&url).unwrap());
    drop(Store::open(&url).unwrap()); // a second start applies nothing twice
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let DatabaseUrl::Postgres(text) = &url else {
        unreachable!()
    };
    runtime.block_on(async {
        use sqlx::Connection;
        let mut connection = sqlx::PgConnection::connect(text).await.unwrap();
        let version: i64 = sqlx::query_scalar("SELECT version FROM schema_version")
            .fetch_one(&mut connection)
            .await
            .unwrap();
        assert_eq!(version as usize, Store::SCHEMA_VERSION);
        sqlx::query("UPDATE schema_version SET version = 99")
            .execute(&mut connection)
            .await
            .unwrap();
    });
    let error = Store::open(&url).err().expect("refused").to_string();
    assert!(
        error.contains("schema version 99, newer than this server knows"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_creator_link_issued_by_one_instance_verifies_on_the_other() {
    let deployment = Deployment::start(2).await;
    deployment.put_listing(listing("candle-trio", None)).await;
    let link: Value = deployment
        .client
        .post(format!(
            "{}/v1/listings/candle-trio/creator-links",
            deployment.base(0)
        ))
        .bearer_auth(SELLER)
        .json(&json!({ "handle": "ana" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = link["token"].as_str().expect("a token").to_string();
    let mut body = TestServer::checkout_body("trio", None, 1);
    body["attribution"]["token"] = json!(token);
    let (status, created) = deployment.checkout(1, "linked", &body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        deployment
            .pay(1, created["session_id"].as_str().unwrap())
            .await,
        200
    );
    let orders = deployment.orders().await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(
        (&orders[0]["creator"], &orders[0]["creator_verified"]),
        (&json!("ana"), &json!(true)),
        "the shared server key signs and verifies alike on every instance"
    );
}
