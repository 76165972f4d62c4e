//! Background upkeep of uploads: remove expired ones, finish ones stranded by a restart.
//! Every step is a conditional update, so several instances may run it at once safely.

use std::time::Duration;

use crate::db;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::uploads::{self, state as upload_state};

/// Mark one upload expired and remove its bytes (if it was still receiving).
pub async fn expire_one(state: &AppState, id: &str) -> Result<bool, AppError> {
    let i = id.to_owned();
    let now = db::now();
    let done = state
        .db(move |conn| Ok(uploads::finish(conn, &i, upload_state::EXPIRED, None, now)?))
        .await?;
    if done {
        state.media.running.forget(id);
        let _ = tokio::fs::remove_file(state.media.upload_dir.join(id)).await;
    }
    Ok(done)
}

/// One pass: returns (expired, completed).
pub async fn sweep(state: &AppState) -> Result<(usize, usize), AppError> {
    let now = db::now();
    let expired_ids = state
        .db(move |conn| Ok(uploads::expired(conn, now, 500)?))
        .await?;
    let mut expired = 0;
    for id in expired_ids {
        if expire_one(state, &id).await? {
            expired += 1;
        }
    }
    let stranded = state
        .db(move |conn| Ok(uploads::stranded(conn, now, 50)?))
        .await?;
    let mut completed = 0;
    for upload in stranded {
        let token = uuid::Uuid::new_v4().to_string();
        let (i, t) = (upload.id.clone(), token.clone());
        let later = now + chrono::Duration::minutes(15);
        if !state
            .db(move |conn| Ok(uploads::try_lock(conn, &i, &t, now, later)?))
            .await?
        {
            continue;
        }
        match super::complete_upload(state, &upload, None).await {
            Ok(_) => completed += 1,
            Err(e) => {
                tracing::warn!(upload = %upload.id, error = %e, "could not finish a stranded upload")
            }
        }
        let i = upload.id.clone();
        let _ = state
            .db(move |conn| Ok(uploads::unlock(conn, &i, &token)?))
            .await;
    }
    Ok((expired, completed))
}

/// Run `sweep` now and then every `every`, until the runtime stops.
pub fn spawn(state: AppState, every: Duration) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(every);
        loop {
            tick.tick().await;
            match sweep(&state).await {
                Ok((0, 0)) => {}
                Ok((expired, completed)) => tracing::info!(expired, completed, "upload upkeep"),
                Err(e) => tracing::warn!(error = %e, "upload upkeep failed"),
            }
        }
    });
}
