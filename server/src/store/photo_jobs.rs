//! The queue of photos whose copies are still to be made (`photo_jobs`), and the attachment's
//! `derive_state`. Every step is a conditional update, so several workers in several instances
//! may run it at once: a job is claimed by exactly one of them, and the one whose lease ran out
//! (a crash, a stall) cannot record a result over the worker that took the job after it.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use griddispatch_media::{PerceptualHash, DEFAULT_SIMILARITY_THRESHOLD};

use crate::db::DbConn;
use crate::schema::{attachments, phash_bands, photo_jobs};

/// `derive_state` values.
pub mod state {
    /// The copies are still being made.
    pub const PENDING: &str = "pending";
    /// The copies exist.
    pub const DONE: &str = "done";
    /// The copies could not be made (`derive_error` says why); the original is kept.
    pub const FAILED: &str = "failed";
}

/// A claimed job.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = photo_jobs)]
pub struct PhotoJob {
    /// The photo.
    pub attachment_id: String,
    /// Attempts, counting the one just claimed.
    pub attempts: i32,
    /// When it may run.
    pub next_attempt_at: NaiveDateTime,
    /// Who holds it.
    pub lease_owner: Option<String>,
    /// Until when.
    pub lease_until: Option<NaiveDateTime>,
    /// What went wrong last time.
    pub last_error: Option<String>,
    /// When the photo was acknowledged.
    pub created_at: NaiveDateTime,
}

/// Queue the copies of a photo (inside the transaction that records it).
pub fn enqueue(conn: &mut DbConn, attachment_id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(photo_jobs::table)
        .values((
            photo_jobs::attachment_id.eq(attachment_id),
            photo_jobs::attempts.eq(0),
            photo_jobs::next_attempt_at.eq(now),
            photo_jobs::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Claim up to `limit` due jobs for `owner` until `lease_until`: each one is taken by a
/// conditional update, so of two workers asking at once only one gets a given job. A worker
/// that loses a job to another goes on to the next due one (it reads a few more than it needs),
/// rather than coming back empty-handed while work waits.
pub fn claim(
    conn: &mut DbConn,
    owner: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<PhotoJob>> {
    let due: Vec<String> = photo_jobs::table
        .filter(photo_jobs::next_attempt_at.le(now))
        .filter(
            photo_jobs::lease_until
                .is_null()
                .or(photo_jobs::lease_until.lt(now)),
        )
        .order(photo_jobs::created_at.asc())
        .limit(limit.saturating_mul(8))
        .select(photo_jobs::attachment_id)
        .load(conn)?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    // The claims commit together: one turn at the write lock for the batch, not one per job.
    crate::db::write_transaction(conn, |conn| {
        claim_due(conn, due, owner, now, lease_until, limit)
    })
}

fn claim_due(
    conn: &mut DbConn,
    due: Vec<String>,
    owner: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<PhotoJob>> {
    let mut out = Vec::new();
    for id in due {
        if out.len() as i64 >= limit {
            break;
        }
        let claimed = diesel::update(
            photo_jobs::table.find(&id).filter(
                photo_jobs::lease_until
                    .is_null()
                    .or(photo_jobs::lease_until.lt(now)),
            ),
        )
        .set((
            photo_jobs::lease_owner.eq(owner),
            photo_jobs::lease_until.eq(lease_until),
            photo_jobs::attempts.eq(photo_jobs::attempts + 1),
        ))
        .execute(conn)?;
        if claimed == 1 {
            if let Some(job) = photo_jobs::table
                .find(&id)
                .select(PhotoJob::as_select())
                .first(conn)
                .optional()?
            {
                out.push(job);
            }
        }
    }
    Ok(out)
}

/// What a finished job records on the attachment.
#[derive(Debug, Clone, Default)]
pub struct Made {
    /// Storage key of the thumbnail.
    pub thumbnail_key: Option<String>,
    /// Storage key of the display copy.
    pub display_key: Option<String>,
    /// dHash, hex.
    pub phash: Option<String>,
}

/// Key of the advisory lock that serialises recording perceptual hashes on PostgreSQL, so two
/// near-identical photos finishing at once still see each other (SQLite's `BEGIN IMMEDIATE`
/// serialises them already).
const PHASH_LOCK_KEY: i64 = 0x6764_7068_6173_6801;

/// Record the copies and remove the job, if `owner` still holds it; `false` (and nothing
/// written) when its lease ran out and another worker took the job.
///
/// The possible re-use flag is settled here, now that the perceptual hash exists: a photo
/// with no earlier identical file is flagged against the nearest earlier photo within the
/// similarity threshold, and later photos whose copies were made first (the queue runs
/// photos in parallel) and found nothing are flagged against this one.
pub fn finish_done(
    conn: &mut DbConn,
    attachment_id: &str,
    owner: &str,
    made: &Made,
) -> QueryResult<bool> {
    crate::db::write_transaction(conn, |conn| {
        if !take_if_mine(conn, attachment_id, owner)? {
            return Ok(false);
        }
        if let DbConn::Pg(pg) = conn {
            use diesel::connection::SimpleConnection;
            // The band search is a prepared statement with array binds: after a few runs
            // PostgreSQL may switch it to a generic plan, which cannot see that 137 values of
            // 65 536 are few and scans the whole table (measured: 359 ms instead of ~2 ms with
            // 100 000 photos). Plan it for its values every time, in this transaction only.
            pg.batch_execute(&format!(
                "SELECT pg_advisory_xact_lock({PHASH_LOCK_KEY}); \
                 SET LOCAL plan_cache_mode = force_custom_plan"
            ))?;
        }
        let (received_at, earlier_same): (NaiveDateTime, Option<String>) = attachments::table
            .find(attachment_id)
            .select((attachments::received_at, attachments::similar_to))
            .first(conn)?;
        let mut similar_to = earlier_same;
        let mut later = Vec::new();
        if let Some(bits) = made.phash.as_deref().and_then(parse_hash) {
            let near = within_threshold(conn, attachment_id, bits)?;
            let ids: Vec<&str> = near.keys().map(String::as_str).collect();
            let rows: Vec<(String, NaiveDateTime, Option<String>)> = attachments::table
                .filter(attachments::id.eq_any(&ids))
                .select((
                    attachments::id,
                    attachments::received_at,
                    attachments::similar_to,
                ))
                .load(conn)?;
            let mut known: HashMap<String, (PerceptualHash, NaiveDateTime)> = HashMap::new();
            for (id, at, _) in &rows {
                if let Some(h) = near.get(id) {
                    known.insert(id.clone(), (*h, *at));
                }
            }
            // The pictures the near photos already point at, when they are not near this one.
            let elsewhere: Vec<&str> = rows
                .iter()
                .filter_map(|(_, _, z)| z.as_deref())
                .filter(|z| !known.contains_key(*z))
                .collect();
            if !elsewhere.is_empty() {
                let pointed: Vec<(String, String, NaiveDateTime)> = attachments::table
                    .filter(attachments::id.eq_any(&elsewhere))
                    .filter(attachments::phash.is_not_null())
                    .select((
                        attachments::id,
                        attachments::phash.assume_not_null(),
                        attachments::received_at,
                    ))
                    .load(conn)?;
                for (id, h, at) in pointed {
                    if let Some(h) = parse_hash(&h) {
                        known.insert(id, (h, at));
                    }
                }
            }
            let me = (received_at, attachment_id);
            let mut best: Option<(u32, NaiveDateTime, &str)> = None;
            for (id, at, flagged) in &rows {
                let Some(&(theirs, _)) = known.get(id) else {
                    continue;
                };
                let d = theirs.hamming_distance(bits);
                if (*at, id.as_str()) < me {
                    if best.is_none_or(|b| (d, *at) < (b.0, b.1)) {
                        best = Some((d, *at, id.as_str()));
                    }
                    continue;
                }
                // A later photo whose copies were made first: flag it against this one unless
                // it already points at an earlier or nearer picture.
                let keep = flagged.as_deref().is_some_and(|z| match known.get(z) {
                    Some(&(zb, zat)) => (zat, z) < me || theirs.hamming_distance(zb) < d,
                    None => true,
                });
                if !keep {
                    later.push(id.clone());
                }
            }
            if similar_to.is_none() {
                similar_to = best.map(|b| b.2.to_owned());
            }
            record_bands(conn, attachment_id, bits)?;
        }
        diesel::update(attachments::table.find(attachment_id))
            .set((
                attachments::thumbnail_key.eq(&made.thumbnail_key),
                attachments::display_key.eq(&made.display_key),
                attachments::phash.eq(&made.phash),
                attachments::similar_to.eq(&similar_to),
                attachments::derive_state.eq(state::DONE),
                attachments::derive_error.eq(None::<String>),
            ))
            .execute(conn)?;
        for id in later {
            diesel::update(attachments::table.find(&id))
                .set(attachments::similar_to.eq(attachment_id))
                .execute(conn)?;
        }
        Ok(true)
    })
}

/// Remove the job if `owner` still holds its lease: whether it did (else another worker took
/// it after the lease ran out, and this one writes nothing).
fn take_if_mine(conn: &mut DbConn, attachment_id: &str, owner: &str) -> QueryResult<bool> {
    let mine = diesel::delete(
        photo_jobs::table
            .find(attachment_id)
            .filter(photo_jobs::lease_owner.eq(owner)),
    )
    .execute(conn)?;
    Ok(mine == 1)
}

/// Bands a 64-bit hash is split into for the search ([`within_threshold`]).
const BANDS: u32 = 4;
/// Two hashes within the similarity threshold agree to within this many bits in at least one
/// of their [`BANDS`] bands: were every band `BAND_RADIUS + 1` bits apart or more, they would
/// differ in `BANDS × (BAND_RADIUS + 1)` bits, more than the threshold.
const BAND_RADIUS: u32 = DEFAULT_SIMILARITY_THRESHOLD / BANDS;

/// A hash's four 16-bit bands, most significant first (as the migration computes them from
/// the hex digits).
fn bands(h: PerceptualHash) -> [i32; 4] {
    let b = h.bits();
    [48, 32, 16, 0].map(|shift| i32::from((b >> shift) as u16))
}

/// The hash whose bands these are.
fn from_bands(b: [i32; 4]) -> PerceptualHash {
    let bits = b
        .iter()
        .fold(0u64, |acc, &v| (acc << 16) | u64::from(v as u16));
    PerceptualHash::from_bits(bits)
}

/// Every 16-bit value within `radius` bits of `v` (`v` itself first).
fn neighbourhood(v: i32, radius: u32) -> Vec<i32> {
    let mut out = vec![v];
    let mut frontier = vec![(v, 0u32)];
    for _ in 0..radius {
        let mut next = Vec::new();
        for (value, lowest) in frontier {
            // Flip bits above the last one flipped, so each set of bits is reached once.
            for bit in lowest..16 {
                let flipped = value ^ (1 << bit);
                out.push(flipped);
                next.push((flipped, bit + 1));
            }
        }
        frontier = next;
    }
    out
}

/// The other photos whose hash is within the similarity threshold of `bits`: the candidates
/// come from the band indexes (a band within [`BAND_RADIUS`] bits), then each is checked bit
/// by bit. Reads a few index entries per band instead of every photo's hash.
fn within_threshold(
    conn: &mut DbConn,
    attachment_id: &str,
    bits: PerceptualHash,
) -> QueryResult<HashMap<String, PerceptualHash>> {
    let [n0, n1, n2, n3] = bands(bits).map(|b| neighbourhood(b, BAND_RADIUS));
    let candidates: Vec<(String, i32, i32, i32, i32)> = phash_bands::table
        .filter(phash_bands::attachment_id.ne(attachment_id))
        .filter(
            phash_bands::b0
                .eq_any(n0)
                .or(phash_bands::b1.eq_any(n1))
                .or(phash_bands::b2.eq_any(n2))
                .or(phash_bands::b3.eq_any(n3)),
        )
        .select((
            phash_bands::attachment_id,
            phash_bands::b0,
            phash_bands::b1,
            phash_bands::b2,
            phash_bands::b3,
        ))
        .load(conn)?;
    Ok(candidates
        .into_iter()
        .map(|(id, b0, b1, b2, b3)| (id, from_bands([b0, b1, b2, b3])))
        .filter(|(_, h)| h.hamming_distance(bits) <= DEFAULT_SIMILARITY_THRESHOLD)
        .collect())
}

/// Index a photo's hash for [`within_threshold`] (replacing an earlier one, if its copies were
/// made again).
fn record_bands(conn: &mut DbConn, attachment_id: &str, bits: PerceptualHash) -> QueryResult<()> {
    diesel::delete(phash_bands::table.find(attachment_id)).execute(conn)?;
    let [b0, b1, b2, b3] = bands(bits);
    diesel::insert_into(phash_bands::table)
        .values((
            phash_bands::attachment_id.eq(attachment_id),
            phash_bands::b0.eq(b0),
            phash_bands::b1.eq(b1),
            phash_bands::b2.eq(b2),
            phash_bands::b3.eq(b3),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A stored perceptual hash (16 hex digits), as the media crate reads it.
fn parse_hash(hex: &str) -> Option<PerceptualHash> {
    PerceptualHash::try_from(hex.to_owned()).ok()
}

/// Mark the photo `failed` with `code` and remove the job, if `owner` still holds it.
pub fn finish_failed(
    conn: &mut DbConn,
    attachment_id: &str,
    owner: &str,
    code: &str,
) -> QueryResult<bool> {
    crate::db::write_transaction(conn, |conn| {
        if !take_if_mine(conn, attachment_id, owner)? {
            return Ok(false);
        }
        diesel::update(attachments::table.find(attachment_id))
            .set((
                attachments::derive_state.eq(state::FAILED),
                attachments::derive_error.eq(Some(code)),
            ))
            .execute(conn)?;
        Ok(true)
    })
}

/// Give the job back to be tried again at `retry_at` (a passing failure: storage, I/O).
pub fn release(
    conn: &mut DbConn,
    attachment_id: &str,
    owner: &str,
    retry_at: NaiveDateTime,
    error: &str,
) -> QueryResult<bool> {
    crate::db::write(conn, |conn| {
        diesel::update(
            photo_jobs::table
                .find(attachment_id)
                .filter(photo_jobs::lease_owner.eq(owner)),
        )
        .set((
            photo_jobs::lease_owner.eq(None::<String>),
            photo_jobs::lease_until.eq(None::<NaiveDateTime>),
            photo_jobs::next_attempt_at.eq(retry_at),
            photo_jobs::last_error.eq(Some(error.chars().take(500).collect::<String>())),
        ))
        .execute(conn)
        .map(|n| n == 1)
    })
}

/// How many photos still wait for their copies.
pub fn pending_count(conn: &mut DbConn) -> QueryResult<i64> {
    photo_jobs::table.count().get_result(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_neighbourhood_holds_every_value_within_the_radius_once() {
        let v = 0b1010_0000_1111_0001;
        let n = neighbourhood(v, 2);
        // 1 + 16 + 16·15/2
        assert_eq!(n.len(), 137);
        let distinct: std::collections::HashSet<i32> = n.iter().copied().collect();
        assert_eq!(distinct.len(), 137);
        assert!(n
            .iter()
            .all(|x| (x ^ v).count_ones() <= 2 && (0..=0xFFFF).contains(x)));
    }

    #[test]
    fn bands_give_the_hash_back_and_match_its_hex_digits() {
        let h = PerceptualHash::from_bits(0xF0E1_0203_ABCD_8000);
        assert_eq!(bands(h), [0xF0E1, 0x0203, 0xABCD, 0x8000]);
        assert_eq!(from_bands(bands(h)), h);
    }
}
