//! Rotating refresh tokens: reuse detection, and the grace for an answer lost in transit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{assert_error, TestApp};
use diesel::prelude::*;
use griddispatch::schema::sessions;
use griddispatch_protocol::auth::TokenResponse;
use griddispatch_protocol::Role;
use serde_json::json;

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post(
        "/api/v1/auth/refresh",
        &json!({ "refresh_token": token }),
        None,
    )
    .await
}

async fn refreshed(app: &TestApp, token: &str) -> TokenResponse {
    let resp = refresh(app, token).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// Pretend the last rotation of every session happened `secs` seconds ago.
fn age_last_rotation(app: &TestApp, secs: i64) {
    let mut conn = app.state.pool.get().unwrap();
    diesel::update(sessions::table)
        .set(sessions::last_used_at.eq(griddispatch::db::now() - chrono::Duration::seconds(secs)))
        .execute(&mut conn)
        .unwrap();
}

async fn assert_session_revoked(app: &TestApp, tokens: &TokenResponse) {
    assert_error(
        refresh(app, &tokens.refresh_token).await,
        401,
        "session_revoked",
    )
    .await;
    assert_error(
        app.get("/api/v1/me", Some(&tokens.access_token)).await,
        401,
        "session_revoked",
    )
    .await;
}

#[actix_web::test]
async fn refresh_rotates_and_an_older_refresh_token_revokes_the_session() {
    let app = TestApp::spawn().await;
    app.user("gmem", &[Role::GridMember]);
    let first = app.login("gmem", "phone").await;
    let second = refreshed(&app, &first.refresh_token).await;
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(
        app.get("/api/v1/me", Some(&second.access_token))
            .await
            .status(),
        200
    );
    let third = refreshed(&app, &second.refresh_token).await;
    // The first token is two rotations old: someone copied it. Using it kills the session,
    // grace or not.
    assert_error(
        refresh(&app, &first.refresh_token).await,
        401,
        "refresh_token_reused",
    )
    .await;
    assert_session_revoked(&app, &third).await;
    assert_error(refresh(&app, "junk").await, 401, "invalid_refresh_token").await;
}

#[actix_web::test]
async fn a_lost_refresh_answer_is_given_again_for_the_previous_token_within_the_grace() {
    let app = TestApp::spawn().await;
    app.user("gmem", &[Role::GridMember]);
    let first = app.login("gmem", "phone").await;
    // The phone refreshed, but the answer never arrived: it still holds the first token.
    let lost = refreshed(&app, &first.refresh_token).await;
    let again = refreshed(&app, &first.refresh_token).await;
    assert_eq!(
        again.refresh_token, lost.refresh_token,
        "the same successor, no second branch"
    );
    assert_eq!(
        app.get("/api/v1/me", Some(&again.access_token))
            .await
            .status(),
        200
    );
    // The session carries on normally from there.
    let next = refreshed(&app, &again.refresh_token).await;
    assert_eq!(
        app.get("/api/v1/me", Some(&next.access_token))
            .await
            .status(),
        200
    );
}

#[actix_web::test]
async fn the_previous_refresh_token_after_the_grace_revokes_the_session() {
    let app = TestApp::spawn_with(|c| c.refresh_grace_secs = 60).await;
    app.user("gmem", &[Role::GridMember]);
    let first = app.login("gmem", "phone").await;
    let second = refreshed(&app, &first.refresh_token).await;
    age_last_rotation(&app, 61);
    assert_error(
        refresh(&app, &first.refresh_token).await,
        401,
        "refresh_token_reused",
    )
    .await;
    assert_session_revoked(&app, &second).await;
}

#[actix_web::test]
async fn with_no_grace_the_previous_refresh_token_revokes_the_session_at_once() {
    let app = TestApp::spawn_with(|c| c.refresh_grace_secs = 0).await;
    app.user("gmem", &[Role::GridMember]);
    let first = app.login("gmem", "phone").await;
    let second = refreshed(&app, &first.refresh_token).await;
    age_last_rotation(&app, 1);
    assert_error(
        refresh(&app, &first.refresh_token).await,
        401,
        "refresh_token_reused",
    )
    .await;
    assert_session_revoked(&app, &second).await;
}

#[actix_web::test]
async fn two_refreshes_with_the_same_token_at_once_both_get_the_same_pair() {
    let app = TestApp::spawn().await;
    app.user("gmem", &[Role::GridMember]);
    let first = app.login("gmem", "phone").await;
    // Whichever order the server sees them in (a race on the rotation, or a replay inside the
    // grace), neither answer revokes the session and both carry the same successor.
    let (a, b) = futures_util::join!(
        refresh(&app, &first.refresh_token),
        refresh(&app, &first.refresh_token)
    );
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let a: TokenResponse = a.json().await.unwrap();
    let b: TokenResponse = b.json().await.unwrap();
    assert_eq!(a.refresh_token, b.refresh_token);
    refreshed(&app, &a.refresh_token).await;
}
