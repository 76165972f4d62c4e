//! Recording a photo's copies as a town's photo count grows: the near-duplicate search
//! (dHash within 10 bits) through the band index, against the read it replaced — every
//! earlier photo's hash loaded and compared — measured on the same database in the same run.
//! Medians of `GD_BENCH_REPS` (default 31) recordings per size. Not a test: it measures and
//! prints.
//!
//! ```text
//! cargo bench -p griddispatch --bench near_duplicates
//! GRIDDISPATCH_BENCH_PG=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p griddispatch --bench near_duplicates
//! ```
//!
//! Hashes are clustered as a town's are (the same corners photographed again and again):
//! 1 000 scenes, each photo a scene's hash with up to 6 bits changed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::Instant;

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use griddispatch::db::{self, migrate, DatabaseUrl, DbConn};
use griddispatch::schema::{attachments, phash_bands};
use griddispatch::store::attachments::{insert, AttachmentRow};
use griddispatch::store::photo_jobs::{self, Made};
use griddispatch_media::{PerceptualHash, DEFAULT_SIMILARITY_THRESHOLD};
use rand::{rngs::StdRng, Rng, SeedableRng};

const SCENES: usize = 1_000;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Town {
    rng: StdRng,
    scenes: Vec<u64>,
    photos: usize,
}

impl Town {
    fn hash(&mut self) -> u64 {
        let mut h = self.scenes[self.rng.gen_range(0..SCENES)];
        for _ in 0..self.rng.gen_range(0..=6) {
            h ^= 1 << self.rng.gen_range(0..64);
        }
        h
    }

    /// A photo row as the upload records it (copies pending), or as recorded with its hash.
    fn row(&mut self, phash: Option<u64>) -> AttachmentRow {
        self.photos += 1;
        AttachmentRow {
            id: uuid::Uuid::now_v7().to_string(),
            owner_id: "bench-user".into(),
            kind: "photo".into(),
            media_type: "image/jpeg".into(),
            size: 200_000,
            sha256: format!("{:064x}", self.photos),
            filename: None,
            device_model: None,
            captured_at: None,
            exif_captured_at: None,
            received_at: db::now(),
            reported_lat: None,
            reported_lon: None,
            exif_lat: None,
            exif_lon: None,
            position_gap_m: None,
            position_mismatch: false,
            width: Some(1280),
            height: Some(960),
            duration_ms: None,
            phash: phash.map(|h| format!("{h:016x}")),
            similar_to: None,
            proves: None,
            original_key: format!("originals/{}", self.photos),
            thumbnail_key: None,
            display_key: None,
            details: "{}".into(),
            phase: None,
            transcript: None,
            derive_state: Some(if phash.is_some() { "done" } else { "pending" }.into()),
            derive_error: None,
        }
    }

    /// Photos whose copies are made, with their bands, up to `n` in all.
    fn grow_to(&mut self, conn: &mut DbConn, n: usize) {
        db::write_transaction(conn, |conn| {
            while self.photos < n {
                let h = self.hash();
                let row = self.row(Some(h));
                insert(conn, &row)?;
                let b = |s: u32| i32::from((h >> s) as u16);
                diesel::insert_into(phash_bands::table)
                    .values((
                        phash_bands::attachment_id.eq(&row.id),
                        phash_bands::b0.eq(b(48)),
                        phash_bands::b1.eq(b(32)),
                        phash_bands::b2.eq(b(16)),
                        phash_bands::b3.eq(b(0)),
                    ))
                    .execute(conn)?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap();
        if let DbConn::Pg(pg) = conn {
            // What autovacuum does for a table that grew by a tenth, at once.
            pg.batch_execute("ANALYZE attachments; ANALYZE phash_bands")
                .unwrap();
        }
    }
}

/// The read the recording did before the band index: every hashed photo, then the distances.
fn scan_every_hash(conn: &mut DbConn, me: &str, bits: PerceptualHash) -> usize {
    let others: Vec<(String, String, NaiveDateTime, Option<String>)> = attachments::table
        .filter(attachments::phash.is_not_null())
        .filter(attachments::id.ne(me))
        .select((
            attachments::id,
            attachments::phash.assume_not_null(),
            attachments::received_at,
            attachments::similar_to,
        ))
        .load(conn)
        .unwrap();
    let known: HashMap<&str, PerceptualHash> = others
        .iter()
        .filter_map(|(id, h, _, _)| {
            PerceptualHash::try_from(h.clone())
                .ok()
                .map(|b| (id.as_str(), b))
        })
        .collect();
    known
        .values()
        .filter(|h| h.hamming_distance(bits) <= DEFAULT_SIMILARITY_THRESHOLD)
        .count()
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    // On PostgreSQL a database of its own, dropped at the end.
    let mut pg_admin = None;
    let (url, backend) = match std::env::var("GRIDDISPATCH_BENCH_PG") {
        Ok(base) => {
            let name = format!("gd_bench_{}", uuid::Uuid::new_v4().simple());
            let mut admin = db::establish(&DatabaseUrl::parse(&base).unwrap()).unwrap();
            admin
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap();
            pg_admin = Some((admin, name.clone()));
            let (head, _) = base.rsplit_once('/').unwrap();
            (format!("{head}/{name}"), "PostgreSQL")
        }
        Err(_) => (
            format!("sqlite://{}", dir.path().join("bench.db").display()),
            "SQLite",
        ),
    };
    let mut conn = db::establish(&DatabaseUrl::parse(&url).unwrap()).unwrap();
    migrate::run_pending(&mut conn).unwrap();
    conn.batch_execute(&format!(
        "INSERT INTO users (id, username, display_name, password_hash, created_at, updated_at) \
         VALUES ('bench-user', 'bench', 'bench', 'x', '{0}', '{0}')",
        db::now().format("%Y-%m-%d %H:%M:%S")
    ))
    .unwrap();
    let reps: usize = std::env::var("GD_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(31);
    let sizes: Vec<usize> = std::env::var("GD_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let mut rng = StdRng::seed_from_u64(7);
    let scenes = (0..SCENES).map(|_| rng.gen()).collect();
    let mut town = Town {
        rng,
        scenes,
        photos: 0,
    };
    println!("{backend}: recording one photo's copies, medians of {reps}");
    println!(
        "| photos already hashed | band index: the whole recording | before: the scan alone | ratio | near duplicates |"
    );
    println!("|---:|---:|---:|---:|---:|");
    for size in sizes {
        town.grow_to(&mut conn, size);
        let (mut new, mut old, mut found) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..reps {
            let h = town.hash();
            let row = town.row(None);
            insert(&mut conn, &row).unwrap();
            photo_jobs::enqueue(&mut conn, &row.id, db::now()).unwrap();
            let now = db::now();
            let until = now + chrono::Duration::minutes(5);
            let claimed = photo_jobs::claim(&mut conn, "bench", now, until, 1).unwrap();
            assert_eq!(claimed.len(), 1);
            let bits = PerceptualHash::from_bits(h);
            let t = Instant::now();
            found.push(scan_every_hash(&mut conn, &row.id, bits) as f64);
            old.push(t.elapsed().as_secs_f64() * 1e3);
            let made = Made {
                phash: Some(bits.to_string()),
                ..Made::default()
            };
            let t = Instant::now();
            assert!(photo_jobs::finish_done(&mut conn, &row.id, "bench", &made).unwrap());
            new.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let (n, o) = (median(new), median(old));
        println!(
            "| {size} | {n:.2} ms | {o:.2} ms | {:.1}× | {:.0} |",
            o / n,
            median(found)
        );
    }
    drop(conn);
    if let Some((mut admin, name)) = pg_admin {
        admin
            .batch_execute(&format!("DROP DATABASE {name}"))
            .unwrap();
    }
}
