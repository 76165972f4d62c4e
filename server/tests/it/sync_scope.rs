//! A scoped reader's pull reads only its own scope's rows (issue #16, "Footprint"): its pages
//! are the same as filtering the whole change log, whatever lies after its cursor — here
//! thousands of other villages' changes. Correctness only; the speed is in
//! docs/benchmarks.md. On the configured backend.

use std::collections::HashSet;

use diesel::prelude::*;
use griddispatch::store::audit::ChangeRow;
use griddispatch::store::sync::{log_page, LogScope};
use serde_json::Value;

use crate::sync::pull_all;
use crate::workflow::Town;

/// A small deterministic generator (no seed file, the same rows on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn row(seq: i64, ty: &str, id: String) -> ChangeRow {
    ChangeRow {
        seq,
        entity_type: ty.into(),
        entity_id: id,
        village_code: None,
        squad_id: None,
        reporter_id: None,
        at: griddispatch::db::now(),
        prev_village_code: None,
        prev_squad_id: None,
    }
}

/// Append `rows` after the head of the log and move the head past them (as that many
/// commands would have), returning the head afterwards. Multi-row `INSERT`s of literals (the
/// values are generated here): quick on both backends, so the test's pooled HTTP connections
/// do not sit idle into the server's keep-alive timeout meanwhile.
fn append(conn: &mut griddispatch::db::DbConn, rows: Vec<ChangeRow>) -> i64 {
    use griddispatch::schema::command_log_head;
    let lit = |v: &Option<String>| v.as_ref().map_or("NULL".to_owned(), |v| format!("'{v}'"));
    griddispatch::db::write_transaction(conn, |conn| {
        let head: i64 = command_log_head::table
            .find(1)
            .select(command_log_head::seq)
            .first(conn)?;
        let last = rows.iter().map(|r| r.seq).max().unwrap_or(0);
        for chunk in rows.chunks(500) {
            let values: Vec<String> = chunk
                .iter()
                .map(|r| {
                    format!(
                        "({}, '{}', '{}', {}, {}, {}, CURRENT_TIMESTAMP, {}, {})",
                        r.seq + head,
                        r.entity_type,
                        r.entity_id,
                        lit(&r.village_code),
                        lit(&r.squad_id),
                        lit(&r.reporter_id),
                        lit(&r.prev_village_code),
                        lit(&r.prev_squad_id)
                    )
                })
                .collect();
            diesel::sql_query(format!(
                "INSERT INTO change_log (seq, entity_type, entity_id, village_code, squad_id, \
                 reporter_id, at, prev_village_code, prev_squad_id) VALUES {}",
                values.join(", ")
            ))
            .execute(conn)?;
        }
        diesel::update(command_log_head::table.find(1))
            .set(command_log_head::seq.eq(head + last))
            .execute(conn)?;
        Ok::<_, diesel::result::Error>(head + last)
    })
    .unwrap()
}

/// Synthetic history: `commands` commands of 1–3 rows each, most in other villages, some in
/// the reader's villages or squad, some by the reader, some leaving the reader's village or
/// squad, some matching through several columns at once.
fn history(rng: &mut Lcg, commands: i64, tag: &str) -> Vec<ChangeRow> {
    let mut rows = Vec::new();
    for seq in 1..=commands {
        let n = 1 + rng.next(3);
        for k in 0..n {
            let ty = ["case", "report", "task"][k as usize];
            let mut r = row(seq, ty, format!("{tag}-{seq}-{}", rng.next(1000)));
            r.village_code = Some(format!("other-{}", rng.next(300)));
            r.squad_id = (rng.next(4) == 0).then(|| format!("other-sq-{}", rng.next(20)));
            r.reporter_id = Some(format!("someone-{}", rng.next(50)));
            match rng.next(100) {
                0 => r.village_code = Some("V-me".into()),
                1 => r.village_code = Some("V-too".into()),
                2 => r.squad_id = Some("S-me".into()),
                3 => r.reporter_id = Some("u-me".into()),
                4 => r.prev_village_code = Some("V-me".into()),
                5 => r.prev_squad_id = Some("S-me".into()),
                6 => {
                    // Own report in own village with own squad: one row, three ways in.
                    r.village_code = Some("V-me".into());
                    r.reporter_id = Some("u-me".into());
                    r.squad_id = Some("S-me".into());
                    r.prev_village_code = Some("V-too".into());
                }
                _ => {}
            }
            rows.push(r);
        }
    }
    rows
}

fn in_scope(r: &ChangeRow, user: &str, villages: &[String], squads: &[String]) -> bool {
    let has = |c: &Option<String>, l: &[String]| c.as_ref().is_some_and(|c| l.contains(c));
    r.reporter_id.as_deref() == Some(user)
        || has(&r.village_code, villages)
        || has(&r.prev_village_code, villages)
        || has(&r.squad_id, squads)
        || has(&r.prev_squad_id, squads)
}

fn key(r: &ChangeRow) -> (i64, String, String) {
    (r.seq, r.entity_type.clone(), r.entity_id.clone())
}

#[actix_web::test]
async fn a_scoped_page_is_the_filtered_log_whatever_lies_after_the_cursor() {
    let t = Town::new().await;
    let mut conn = t.app.state.pool.get().unwrap();
    let mut rng = Lcg(16);
    let start = append(&mut conn, history(&mut rng, 6000, "h"));
    let all: Vec<ChangeRow> = griddispatch::schema::change_log::table
        .select(ChangeRow::as_select())
        .order((
            griddispatch::schema::change_log::seq,
            griddispatch::schema::change_log::entity_type,
            griddispatch::schema::change_log::entity_id,
        ))
        .load(&mut conn)
        .unwrap();
    assert!(all.len() > 10_000, "{} rows", all.len());
    let many_villages: Vec<String> = ["V-me".to_owned(), "V-too".to_owned()]
        .into_iter()
        .chain((0..40).map(|i| format!("elsewhere-{i}")))
        .collect();
    let scopes = [
        ("u-me", vec!["V-me".to_owned()], vec![]),
        (
            "u-me",
            vec!["V-me".to_owned(), "V-too".to_owned()],
            vec!["S-me".to_owned()],
        ),
        ("nobody", vec![], vec!["S-me".to_owned()]),
        ("u-me", vec![], vec![]),
        // More keys than one branch each: the `IN`-list form.
        ("u-me", many_villages, vec!["S-me".to_owned()]),
    ];
    let before = start - 6000;
    for (user, villages, squads) in scopes {
        let scope = LogScope::Some {
            user_id: user.into(),
            villages: villages.clone(),
            squads: squads.clone(),
        };
        let want_all: Vec<&ChangeRow> = all
            .iter()
            .filter(|r| in_scope(r, user, &villages, &squads))
            .collect();
        assert!(
            want_all.len() > 20,
            "{user} {villages:?}: {}",
            want_all.len()
        );
        // Cursors before the history, inside it, at a row of the scope, at the end.
        let mut afters = vec![0, before, before + 1, before + 3000, start, start + 5];
        afters.push(want_all[want_all.len() / 2].seq);
        for after in afters {
            for limit in [1i64, 2, 3, 7, 503, 100_000] {
                let got = log_page(&mut conn, &scope, after, limit).unwrap();
                let want: Vec<_> = want_all
                    .iter()
                    .filter(|r| r.seq > after)
                    .take(limit as usize)
                    .map(|r| key(r))
                    .collect();
                let got: Vec<_> = got.iter().map(key).collect();
                assert_eq!(
                    got, want,
                    "{user} {villages:?} {squads:?} after {after} limit {limit}"
                );
            }
        }
    }
    // Town-wide readers still read everything.
    let got = log_page(&mut conn, &LogScope::All, before, 100_000).unwrap();
    let want: Vec<_> = all.iter().filter(|r| r.seq > before).map(key).collect();
    assert_eq!(got.iter().map(key).collect::<Vec<_>>(), want);
}

#[actix_web::test]
async fn a_grid_member_pulls_only_their_village_past_thousands_of_other_villages_changes() {
    let t = Town::new().await;
    let (_, cursor) = pull_all(&t, &t.tokens["gm2"], None, 500).await;
    let mut rng = Lcg(7);
    let other = |rng: &mut Lcg, n: i64, tag: &str| -> Vec<ChangeRow> {
        (1..=n)
            .map(|seq| {
                let mut r = row(seq, "report", format!("{tag}-{seq}"));
                r.village_code = Some(format!("other-{}", rng.next(500)));
                r.reporter_id = Some("someone-else".into());
                r
            })
            .collect()
    };
    {
        let mut conn = t.app.state.pool.get().unwrap();
        append(&mut conn, other(&mut rng, 4000, "a"));
    }
    let r1 = t.report("0401").await;
    let r2 = t.report("0401").await;
    let task = t.dispatch(&r1).await;
    {
        let mut conn = t.app.state.pool.get().unwrap();
        append(&mut conn, other(&mut rng, 4000, "b"));
    }
    let r3 = t.report("0401").await;
    // (A page holds whole commands: the dispatch is two rows, so no page of one.)
    for limit in [2u32, 3, 500] {
        let (changes, _) = pull_all(&t, &t.tokens["gm2"], Some(cursor.clone()), limit).await;
        let ids: Vec<&str> = changes.iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert!(
            ids.iter()
                .all(|i| [&r1, &r2, &r3, &task].iter().any(|m| m == i)),
            "limit {limit}: only the village's changes: {ids:?}"
        );
        let seen: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(seen.len(), 4, "limit {limit}: {ids:?}");
        let seqs: Vec<i64> = changes.iter().map(|c| c["seq"].as_i64().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] <= w[1]), "{seqs:?}");
        // Each (seq, entity) once.
        let pairs: HashSet<(i64, &str)> = changes
            .iter()
            .map(|c| (c["seq"].as_i64().unwrap(), c["id"].as_str().unwrap()))
            .collect();
        assert_eq!(pairs.len(), changes.len(), "limit {limit}: {changes:?}");
        let last: &Value = changes.last().unwrap();
        assert_eq!(last["id"], r3.as_str());
    }
}

#[actix_web::test]
async fn a_wait_sleeps_through_other_villages_changes_and_wakes_for_its_own_from_any_instance() {
    let t = Town::new().await;
    let (_, cursor) = pull_all(&t, &t.tokens["gm2"], None, 500).await;
    let wait = |timeout: u32| {
        t.app
            .client
            .get(
                t.app
                    .url(&format!("/sync/v1/wait?cursor={cursor}&timeout={timeout}")),
            )
            .bearer_auth(&t.tokens["gm2"])
            .header("GridSync-Protocol", "1")
            .send()
    };
    // Rows written straight into the database, as another instance would (no local wake-up:
    // the watcher finds them within a second).
    let write = |rows: Vec<ChangeRow>| {
        let mut conn = t.app.state.pool.get().unwrap();
        append(&mut conn, rows);
    };
    let elsewhere = |tag: &str| {
        let mut r = row(1, "report", format!("elsewhere-{tag}"));
        r.village_code = Some("another-village".into());
        r.reporter_id = Some("someone-else".into());
        vec![r]
    };
    let (quiet, _) = futures_util::join!(
        async { wait(3).await.unwrap().json::<Value>().await.unwrap() },
        async {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
            write(elsewhere("a"));
            actix_web::rt::time::sleep(std::time::Duration::from_millis(1200)).await;
            write(elsewhere("b"));
        }
    );
    assert_eq!(quiet["changed"], false, "{quiet}");
    // A report leaving their village (the village it left is theirs).
    let (woken, _) = futures_util::join!(
        async { wait(20).await.unwrap().json::<Value>().await.unwrap() },
        async {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
            let mut r = row(1, "report", "moved-away".into());
            r.village_code = Some("another-village".into());
            r.prev_village_code = Some(t.village.clone());
            write(vec![r]);
        }
    );
    assert_eq!(woken["changed"], true, "{woken}");
}
