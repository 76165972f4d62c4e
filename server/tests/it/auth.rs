//! Sign-in, tokens, devices and roles, over HTTP, on the configured backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{assert_error, TestApp, PASSWORD, TEST_SECRET};
use griddispatch_protocol::auth::UserView;
use griddispatch_protocol::Role;
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};

#[actix_web::test]
async fn a_user_signs_in_and_sees_their_profile() {
    let app = TestApp::spawn().await;
    app.user("zhang.ming", &[Role::GridMember, Role::GridLeader]);
    let tokens = app.login("Zhang.Ming", "phone-1").await;
    assert_eq!(tokens.token_type, "Bearer");
    assert!(tokens.expires_in > 0);
    let me: UserView = app
        .get("/api/v1/me", Some(&tokens.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me.username, "zhang.ming");
    assert_eq!(me.roles, vec![Role::GridMember, Role::GridLeader]);
    assert!(!me.certificate_valid);
}

#[actix_web::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.user("officer1", &[Role::Officer]);
    let wrong = app.try_login("officer1", "not-the-password", "d").await;
    let m1 = assert_error(wrong, 401, "invalid_credentials").await;
    let unknown = app.try_login("nobody", PASSWORD, "d").await;
    let m2 = assert_error(unknown, 401, "invalid_credentials").await;
    assert_eq!(m1, m2);
}

#[actix_web::test]
async fn requests_without_a_token_are_refused() {
    let app = TestApp::spawn().await;
    assert_error(app.get("/api/v1/me", None).await, 401, "missing_token").await;
    let resp = app
        .client
        .get(app.url("/api/v1/me"))
        .header("Authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "invalid_token").await;
}

fn forge(claims: &Value, secret: &[u8]) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

async fn claims_of(app: &TestApp, username: &str) -> Value {
    let t = app.login(username, "dev").await;
    let payload = t.access_token.split('.').nth(1).unwrap();
    let _ = app; // the session exists in this app's database
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[actix_web::test]
async fn an_expired_token_is_refused_as_expired() {
    let app = TestApp::spawn().await;
    app.user("dispatcher1", &[Role::Dispatcher]);
    let mut claims = claims_of(&app, "dispatcher1").await;
    let now = chrono::Utc::now().timestamp();
    claims["iat"] = json!(now - 3600);
    claims["exp"] = json!(now - 1800);
    let token = forge(&claims, TEST_SECRET.as_bytes());
    assert_error(
        app.get("/api/v1/me", Some(&token)).await,
        401,
        "token_expired",
    )
    .await;
}

#[actix_web::test]
async fn a_tampered_token_is_refused() {
    let app = TestApp::spawn().await;
    app.user("victim", &[Role::GridMember]);
    app.user("mallory", &[Role::GridMember]);
    let victim_claims = claims_of(&app, "victim").await;
    let tokens = app.login("mallory", "m").await;
    // Swap the payload for the victim's, keep mallory's signature.
    let parts: Vec<&str> = tokens.access_token.split('.').collect();
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&victim_claims).unwrap());
    let tampered = format!("{}.{}.{}", parts[0], payload, parts[2]);
    assert_error(
        app.get("/api/v1/me", Some(&tampered)).await,
        401,
        "invalid_token",
    )
    .await;
    // And a token signed with some other secret.
    let other = forge(&victim_claims, b"someone-elses-secret-someone-elses-secret");
    assert_error(
        app.get("/api/v1/me", Some(&other)).await,
        401,
        "invalid_token",
    )
    .await;
}

#[actix_web::test]
async fn a_token_with_alg_none_is_refused() {
    let app = TestApp::spawn().await;
    app.user("admin1", &[Role::Admin]);
    let claims = claims_of(&app, "admin1").await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        assert_error(
            app.get("/api/v1/users", Some(&token)).await,
            401,
            "invalid_token",
        )
        .await;
    }
}

#[actix_web::test]
async fn revoking_a_lost_phone_stops_its_access_and_refresh_tokens() {
    let app = TestApp::spawn().await;
    app.user("li.hong", &[Role::GridMember]);
    let phone = app.login("li.hong", "lost-phone").await;
    let console = app.login("li.hong", "console").await;
    let resp = app
        .post(
            "/api/v1/me/devices/lost-phone/revoke",
            &json!({}),
            Some(&console.access_token),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["revoked_sessions"], 1);
    assert_error(
        app.get("/api/v1/me", Some(&phone.access_token)).await,
        401,
        "session_revoked",
    )
    .await;
    let refresh = app
        .post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": phone.refresh_token}),
            None,
        )
        .await;
    assert_error(refresh, 401, "session_revoked").await;
    // The console keeps working.
    assert_eq!(
        app.get("/api/v1/me", Some(&console.access_token))
            .await
            .status(),
        200
    );
}

#[actix_web::test]
async fn an_admin_revokes_another_users_device() {
    let app = TestApp::spawn().await;
    app.user("admin1", &[Role::Admin]);
    app.user("gmem", &[Role::GridMember]);
    let admin = app.login("admin1", "pc").await;
    let phone = app.login("gmem", "p1").await;
    let resp = app
        .post(
            "/api/v1/users/gmem/devices/p1/revoke",
            &json!({}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_error(
        app.get("/api/v1/me", Some(&phone.access_token)).await,
        401,
        "session_revoked",
    )
    .await;
    // Somebody else may not.
    let other = app.login("gmem", "p2").await;
    let resp = app
        .post(
            "/api/v1/users/admin1/devices/pc/revoke",
            &json!({}),
            Some(&other.access_token),
        )
        .await;
    assert_error(resp, 403, "forbidden").await;
    assert_eq!(
        app.get("/api/v1/me", Some(&admin.access_token))
            .await
            .status(),
        200
    );
}

#[actix_web::test]
async fn a_disabled_account_can_neither_use_its_tokens_nor_sign_in() {
    let app = TestApp::spawn().await;
    app.user("admin1", &[Role::Admin]);
    app.user("leaver", &[Role::Officer]);
    let admin = app.login("admin1", "pc").await;
    let leaver = app.login("leaver", "phone").await;
    let resp = app
        .post(
            "/api/v1/users/leaver/disable",
            &json!({}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.json::<UserView>().await.unwrap().disabled);
    // Disabling signs out everywhere, so the old token now fails on its session.
    let r = app.get("/api/v1/me", Some(&leaver.access_token)).await;
    assert_eq!(r.status(), 401);
    let again = app.try_login("leaver", PASSWORD, "phone").await;
    assert_error(again, 403, "account_disabled").await;
    let refresh = app
        .post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": leaver.refresh_token}),
            None,
        )
        .await;
    assert_error(refresh, 401, "session_revoked").await;
    // Re-enabled, the user can sign in again.
    let resp = app
        .post(
            "/api/v1/users/leaver/enable",
            &json!({}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(resp.status(), 200);
    app.login("leaver", "phone").await;
}

#[actix_web::test]
async fn a_disabled_account_is_refused_even_with_a_live_session() {
    // Disable in the database without revoking sessions: the per-request check must still refuse.
    let app = TestApp::spawn().await;
    let id = app.user("gmem", &[Role::GridMember]);
    let t = app.login("gmem", "p").await;
    let mut conn = app.state.pool.get().unwrap();
    griddispatch::store::users::set_disabled(&mut conn, &id, true, griddispatch::db::now())
        .unwrap();
    assert_error(
        app.get("/api/v1/me", Some(&t.access_token)).await,
        403,
        "account_disabled",
    )
    .await;
}

#[actix_web::test]
async fn logout_ends_the_session() {
    let app = TestApp::spawn().await;
    app.user("gmem", &[Role::GridMember]);
    let t = app.login("gmem", "phone").await;
    let resp = app
        .post(
            "/api/v1/auth/logout",
            &json!({"refresh_token": t.refresh_token}),
            None,
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert_error(
        app.get("/api/v1/me", Some(&t.access_token)).await,
        401,
        "session_revoked",
    )
    .await;
    let r = app
        .post(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": t.refresh_token}),
            None,
        )
        .await;
    assert_error(r, 401, "session_revoked").await;
}

#[actix_web::test]
async fn signing_in_again_on_the_same_device_replaces_the_old_session() {
    let app = TestApp::spawn().await;
    app.user("gmem", &[Role::GridMember]);
    let old = app.login("gmem", "phone").await;
    let new = app.login("gmem", "phone").await;
    assert_error(
        app.get("/api/v1/me", Some(&old.access_token)).await,
        401,
        "session_revoked",
    )
    .await;
    assert_eq!(
        app.get("/api/v1/me", Some(&new.access_token))
            .await
            .status(),
        200
    );
    let devices: Vec<Value> = app
        .get("/api/v1/me/devices", Some(&new.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0]["device_id"], "phone");
}

#[actix_web::test]
async fn only_admins_manage_accounts() {
    let app = TestApp::spawn().await;
    app.user("admin1", &[Role::Admin]);
    app.user("disp", &[Role::Dispatcher, Role::DutyChief]);
    let admin = app.login("admin1", "pc").await;
    let disp = app.login("disp", "pc").await;
    let new_user = json!({"username": "wang.qiang", "display_name": "王强", "password": "longenough",
        "roles": ["officer"], "certificate": {"number": "豫济执 0099", "valid_until": "2030-01-01"}});
    let msg = assert_error(
        app.post("/api/v1/users", &new_user, Some(&disp.access_token))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert!(msg.contains("admin"), "{msg}");
    assert_error(
        app.get("/api/v1/users", Some(&disp.access_token)).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.post(
            "/api/v1/users/disp/disable",
            &json!({}),
            Some(&disp.access_token),
        )
        .await,
        403,
        "forbidden",
    )
    .await;

    let resp = app
        .post("/api/v1/users", &new_user, Some(&admin.access_token))
        .await;
    assert_eq!(resp.status(), 201);
    let created: UserView = resp.json().await.unwrap();
    assert!(created.certificate_valid);
    assert_eq!(created.roles, vec![Role::Officer]);
    let list: Vec<UserView> = app
        .get("/api/v1/users", Some(&admin.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 3);
    // The new account works.
    let t = app.try_login("wang.qiang", "longenough", "p").await;
    assert_eq!(t.status(), 200);
}

#[actix_web::test]
async fn invalid_accounts_are_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    app.user("admin1", &[Role::Admin]);
    let admin = app.login("admin1", "pc").await;
    let base = json!({"username": "ok.name", "display_name": "名", "password": "longenough", "roles": ["officer"]});
    let cases = [
        ("username", json!("x"), 422, "invalid_username"),
        ("password", json!("short"), 422, "weak_password"),
        ("roles", json!([]), 422, "no_roles"),
        ("roles", json!(["mayor"]), 422, "invalid_field"),
        ("display_name", json!(""), 422, "invalid_display_name"),
        ("username", json!("admin1"), 409, "username_taken"),
    ];
    for (field, value, status, code) in cases {
        let mut body = base.clone();
        body[field] = value;
        assert_error(
            app.post("/api/v1/users", &body, Some(&admin.access_token))
                .await,
            status,
            code,
        )
        .await;
    }
    let list: Vec<UserView> = app
        .get("/api/v1/users", Some(&admin.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list.len(),
        1,
        "a refused request must not create an account"
    );
    let self_disable = app
        .post(
            "/api/v1/users/admin1/disable",
            &json!({}),
            Some(&admin.access_token),
        )
        .await;
    assert_error(self_disable, 409, "cannot_disable_self").await;
    let missing = app
        .post(
            "/api/v1/users/ghost/disable",
            &json!({}),
            Some(&admin.access_token),
        )
        .await;
    assert_error(missing, 404, "not_found").await;
}

#[actix_web::test]
async fn an_expired_certificate_is_reported_invalid() {
    let app = TestApp::spawn().await;
    let cert = griddispatch_protocol::auth::Certificate {
        number: "豫济执 0001".into(),
        valid_until: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
    };
    app.user_with_cert("old.officer", &[Role::Officer], Some(cert));
    let t = app.login("old.officer", "p").await;
    let me: UserView = app
        .get("/api/v1/me", Some(&t.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert!(me.certificate.is_some());
    assert!(!me.certificate_valid);
}
