//! Evidence records (证据): one per accepted file.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::schema::attachments;

/// A row of `attachments` (also used to insert).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = attachments)]
pub struct AttachmentRow {
    /// Id chosen by the phone (UUID).
    pub id: String,
    /// Who made it (制作人).
    pub owner_id: String,
    /// `photo`, `video` or `audio` (制作方法).
    pub kind: String,
    /// MIME type found from the bytes.
    pub media_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the original, hex.
    pub sha256: String,
    /// Client file name, cleaned.
    pub filename: Option<String>,
    /// Device model (from metadata or EXIF).
    pub device_model: Option<String>,
    /// When the device says it was captured (制作时间, device clock).
    pub captured_at: Option<NaiveDateTime>,
    /// Capture time from EXIF, UTC when the offset is known.
    pub exif_captured_at: Option<NaiveDateTime>,
    /// Server receipt time.
    pub received_at: NaiveDateTime,
    /// Reported position (WGS-84).
    pub reported_lat: Option<f64>,
    /// Reported position (WGS-84).
    pub reported_lon: Option<f64>,
    /// EXIF GPS position.
    pub exif_lat: Option<f64>,
    /// EXIF GPS position.
    pub exif_lon: Option<f64>,
    /// Distance between the two positions, metres.
    pub position_gap_m: Option<f64>,
    /// The gap is above the configured threshold.
    pub position_mismatch: bool,
    /// Pixels.
    pub width: Option<i32>,
    /// Pixels.
    pub height: Option<i32>,
    /// Video/audio length.
    pub duration_ms: Option<i64>,
    /// 64-bit dHash of photos, hex.
    pub phash: Option<String>,
    /// An earlier attachment with the same or a near-identical picture.
    pub similar_to: Option<String>,
    /// What it proves (证明对象), set later.
    pub proves: Option<String>,
    /// Storage key of the immutable original.
    pub original_key: String,
    /// Storage key of the thumbnail.
    pub thumbnail_key: Option<String>,
    /// Storage key of the metadata-free display copy.
    pub display_key: Option<String>,
    /// Full processing result, JSON.
    pub details: String,
    /// `before` or `after`: which side of a rectification a photo shows (upload metadata).
    pub phase: Option<String>,
    /// What a recording says (audio), set later by its maker or the officers.
    pub transcript: Option<String>,
    /// Whether the photo's copies are made: `pending`, `done` or `failed`; `None` when there
    /// is nothing to make (video, audio, HEIF, photos recorded before the job queue).
    pub derive_state: Option<String>,
    /// Why the copies could not be made (a stable code), with `failed`.
    pub derive_error: Option<String>,
}

/// Insert.
pub fn insert(conn: &mut DbConn, row: &AttachmentRow) -> QueryResult<()> {
    diesel::insert_into(attachments::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// By id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<AttachmentRow>> {
    attachments::table
        .find(id)
        .select(AttachmentRow::as_select())
        .first(conn)
        .optional()
}

/// The earliest other attachment with exactly these bytes.
pub fn same_bytes(conn: &mut DbConn, sha256: &str, except: &str) -> QueryResult<Option<String>> {
    attachments::table
        .filter(attachments::sha256.eq(sha256))
        .filter(attachments::id.ne(except))
        .order(attachments::received_at.asc())
        .select(attachments::id)
        .first(conn)
        .optional()
}

/// Set what a recording says.
pub fn set_transcript(conn: &mut DbConn, id: &str, transcript: &str) -> QueryResult<usize> {
    diesel::update(attachments::table.find(id))
        .set(attachments::transcript.eq(Some(transcript)))
        .execute(conn)
}

impl AttachmentRow {
    /// When it was taken, for rules about order: the earlier of the file's own capture time
    /// and the phone's; with neither, the server's receipt time (it cannot have been taken
    /// later than it arrived).
    pub fn taken_at(&self) -> NaiveDateTime {
        match (self.exif_captured_at, self.captured_at) {
            (Some(a), Some(b)) => a.min(b),
            (Some(t), None) | (None, Some(t)) => t,
            (None, None) => self.received_at,
        }
    }
}

/// Set what an item proves.
pub fn set_proves(conn: &mut DbConn, id: &str, proves: &str) -> QueryResult<usize> {
    diesel::update(attachments::table.find(id))
        .set(attachments::proves.eq(Some(proves)))
        .execute(conn)
}
