//! Nothing acknowledged is lost: the real binary is killed with SIGKILL between a payment and
//! its webhook delivery; after a restart the paid session is still paid and the webhook is
//! delivered, once.

mod support;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{SELLER, listing, receiver, temp_root};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server process, killed (SIGKILL) when dropped, also when a test panics.
struct ServerProcess(Child);

impl ServerProcess {
    fn kill_9(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill_9();
    }
}

fn start(database: &std::path::Path, root: &std::path::Path, port: u16) -> ServerProcess {
    let child = Command::new(env!("CARGO_BIN_EXE_mighty-server"))
        .env("MIGHTY_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", format!("sqlite:{}", database.display()))
        .env("MIGHTY_SELLER_TOKEN", SELLER)
        .env("MIGHTY_ROOT", root)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    ServerProcess(child)
}

async fn wait_until_up(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_session_and_its_webhook_survive_kill_9() {
    let root = temp_root();
    let database = root.0.join("crash.db");
    let (port, receiver_port) = (free_port(), free_port());
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let auth = format!("Bearer {SELLER}");

    let mut server = start(&database, &root.0, port);
    wait_until_up(&client, &base).await;
    let put = client
        .put(format!("{base}/v1/listings/candle-trio"))
        .header("authorization", &auth)
        .body(listing("candle-trio", None).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    // The receiver is not listening yet: the first delivery attempt fails.
    let hook = client
        .post(format!("{base}/v1/webhooks"))
        .header("authorization", &auth)
        .json(&json!({ "url": format!("http://127.0.0.1:{receiver_port}/hook") }))
        .send()
        .await
        .unwrap();
    let secret = hook.json::<serde_json::Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let created = client
        .post(format!("{base}/v1/checkout/sessions"))
        .header("idempotency-key", "crash-1")
        .json(&support::TestServer::checkout_body("trio", None, 1))
        .send()
        .await
        .unwrap();
    let session = created.json::<serde_json::Value>().await.unwrap()["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut form: Vec<(&str, &str)> = vec![
        ("email", "ana@example.com"),
        ("cc-name", "Ana"),
        ("cc-number", "4242424242424242"),
        ("cc-exp", "12/40"),
        ("cc-csc", "123"),
    ];
    form.extend_from_slice(support::TestServer::SHIPPING);
    let receipt = client
        .post(format!("{base}/pay/{session}"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(receipt.contains("Payment received"));

    server.kill_9(); // SIGKILL: no shutdown, no flush

    let (receiver, _) =
        receiver::start(format!("127.0.0.1:{receiver_port}").parse().unwrap(), 0).await;
    let _server = start(&database, &root.0, port);
    wait_until_up(&client, &base).await;
    let state = client
        .get(format!("{base}/v1/checkout/sessions/{session}"))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(state["status"], "paid", "the acknowledged payment survived");

    // An attempt cut short by the kill holds its lease (15 s) before it is retried.
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.received().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the webhook was not delivered after the restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Give a duplicate every chance to show up.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let received = receiver.received();
    assert_eq!(received.len(), 1, "delivered once");
    assert_eq!(received[0].json()["type"], "checkout.session.completed");
    assert_eq!(
        mighty_core::signing::verify_webhook(
            &secret,
            &received[0].signature,
            &received[0].body,
            mighty_server::clock::real_now()
        ),
        Ok(())
    );
}
