//! Sign-in throttling: guessing locks the guesser, not the account's owner.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{assert_error, TestApp, PASSWORD};
use griddispatch_protocol::Role;
use serde_json::json;

/// Sign in as if from `address` (the test app trusts 127.0.0.1 as its proxy when asked to).
async fn login_from(
    app: &TestApp,
    address: &str,
    username: &str,
    password: &str,
    device: &str,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", address)
        .json(&json!({"username": username, "password": password, "device_id": device}))
        .send()
        .await
        .unwrap()
}

async fn assert_locked(resp: reqwest::Response) {
    let retry_after: i64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0);
    assert_error(resp, 429, "too_many_attempts").await;
}

async fn guess(app: &TestApp, address: &str, username: &str, times: usize) {
    for _ in 0..times {
        let r = login_from(app, address, username, "guess", "stranger-phone").await;
        assert_error(r, 401, "invalid_credentials").await;
    }
}

const STRANGER: &str = "203.0.113.7";
const OWNER: &str = "198.51.100.2";

#[actix_web::test]
async fn repeated_wrong_passwords_lock_the_account_for_that_address() {
    let app = TestApp::spawn_with(|c| c.login_max_failures = 3).await;
    app.user("target", &[Role::Dispatcher]);
    for _ in 0..3 {
        assert_error(
            app.try_login("target", "guess", "x").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    // Locked for this address even with the right password.
    assert_locked(app.try_login("target", PASSWORD, "x").await).await;
    // Another account is not affected by this account's lock.
    app.user("bystander", &[Role::Dispatcher]);
    app.login("bystander", "y").await;
}

#[actix_web::test]
async fn a_strangers_wrong_passwords_do_not_lock_the_owner_out_from_another_address() {
    let app = TestApp::spawn_with(|c| {
        c.login_max_failures = 5;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    app.user("gm_201", &[Role::GridMember]);
    guess(&app, STRANGER, "gm_201", 5).await;
    assert_locked(login_from(&app, STRANGER, "gm_201", PASSWORD, "stranger-phone").await).await;
    let owner = login_from(&app, OWNER, "gm_201", PASSWORD, "owner-phone").await;
    assert_eq!(owner.status(), 200);
    // The owner's success does not lift the stranger's lock.
    assert_locked(login_from(&app, STRANGER, "gm_201", "guess", "stranger-phone").await).await;
}

#[actix_web::test]
async fn guessing_across_accounts_from_one_address_is_throttled() {
    let app = TestApp::spawn_with(|c| {
        c.login_max_failures = 100;
        c.login_max_failures_per_ip = 4;
    })
    .await;
    app.user("real", &[Role::Dispatcher]);
    for i in 0..4 {
        let r = app.try_login(&format!("user{i}"), "guess", "x").await;
        assert_error(r, 401, "invalid_credentials").await;
    }
    assert_locked(app.try_login("real", PASSWORD, "x").await).await;
}

#[actix_web::test]
async fn guessing_one_account_from_many_addresses_spares_only_the_owners_known_devices() {
    let app = TestApp::spawn_with(|c| {
        c.login_max_failures = 5;
        c.login_max_failures_per_account = 6;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    app.user("gm_202", &[Role::GridMember]);
    let first = login_from(&app, OWNER, "gm_202", PASSWORD, "owner-phone").await;
    assert_eq!(first.status(), 200);
    guess(&app, "203.0.113.1", "gm_202", 3).await;
    guess(&app, "203.0.113.2", "gm_202", 3).await;
    // A device the account never used is refused from any address …
    assert_locked(login_from(&app, "203.0.113.3", "gm_202", PASSWORD, "new-phone").await).await;
    // … the owner's phone is not, wherever it is.
    let owner = login_from(&app, "192.0.2.9", "gm_202", PASSWORD, "owner-phone").await;
    assert_eq!(owner.status(), 200);
}

#[actix_web::test]
async fn a_forwarded_address_is_ignored_unless_the_peer_is_a_trusted_proxy() {
    let app = TestApp::spawn_with(|c| c.login_max_failures = 3).await;
    app.user("gm_203", &[Role::GridMember]);
    for address in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        guess(&app, address, "gm_203", 1).await;
    }
    // All three came from 127.0.0.1, which is not a trusted proxy: one address, locked.
    assert_locked(login_from(&app, OWNER, "gm_203", PASSWORD, "owner-phone").await).await;
}
