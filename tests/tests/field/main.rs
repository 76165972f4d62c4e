//! The field app (网格通, `/m/`) in a real browser (headless Chromium through chromedriver,
//! a phone-sized window) against the real binary on the demo town. The phone talks to the
//! server through the town's [`FaultProxy`](griddispatch_e2e::faults::FaultProxy): switched
//! offline, the phone has no signal; a cut request is a dropped connection mid-upload.
//!
//! Runs on the SQLite pass; skipped with a notice on the PostgreSQL pass and where no browser is
//! installed, unless `GRIDDISPATCH_REQUIRE_BROWSER=1` (set by `.ci/run`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use griddispatch_e2e::browser::{Browser, PHONE_WINDOW};
use griddispatch_e2e::faults::Fault;
use griddispatch_e2e::media::{jpeg, sha256_hex};
use griddispatch_e2e::town::{Town, PASSWORD};
use serde_json::{json, Value};

mod bench;

/// The demo town (access tokens living 30 s, the shortest allowed, so that one expires while
/// the phone is offline) and a phone-sized browser, or `None` when browser tests do not run.
pub(crate) fn setup(journey: &str) -> Option<(Town, Browser)> {
    let browser = Browser::start_sized_or_skip(journey, PHONE_WINDOW)?;
    let town = Town::start_with(&[("GRIDDISPATCH_ACCESS_TOKEN_TTL_SECS", "30")]);
    // Headless Chromium keeps windows at least 500 px wide: the page gets a phone's viewport
    // (and touch, as on a phone) from the emulation instead.
    browser.cdp(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": PHONE_WINDOW.0, "height": PHONE_WINDOW.1, "deviceScaleFactor": 1,
               "mobile": true}),
    );
    browser.cdp(
        "Browser.grantPermissions",
        json!({"permissions": ["geolocation"], "origin": town.phone_url()}),
    );
    Some((town, browser))
}

/// What the phone's GPS says from now on.
pub(crate) fn gps(browser: &Browser, lat: f64, lon: f64, accuracy: f64) {
    browser.cdp(
        "Emulation.setGeolocationOverride",
        json!({"latitude": lat, "longitude": lon, "accuracy": accuracy}),
    );
}

/// Open the app at `/m/` and sign in.
pub(crate) fn sign_in(browser: &Browser, town: &Town, username: &str) {
    browser.goto(&format!("{}/m/", town.phone_url()));
    browser.wait_for("#login-username").send_keys(username);
    browser.wait_for("#login-password").send_keys(PASSWORD);
    browser.wait_for("#login-submit").click();
    browser.wait_for("#current-user");
}

/// A photo on the phone's disk.
pub(crate) fn photo(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Take a photo, pick the category, write the note, submit: the report is kept on the phone.
pub(crate) fn report(browser: &Browser, photo: &Path, category: &str, note: &str) {
    let before = browser.all(".fd-thumb").len();
    // The camera: a file chosen through the capture input (WebDriver types its path).
    browser
        .wait_for_present("#photo-input")
        .send_keys(&photo.display().to_string());
    browser.wait_until_script(
        "the photo to be hashed and shown",
        &format!(
            "return document.querySelectorAll('.fd-thumb').length === {};",
            before + 1
        ),
    );
    browser
        .wait_for_present(&format!("#category option[value='{category}']"))
        .click();
    browser.wait_for("#description").replace_text(note);
    // The confirmation is a toast shown for 3 s: every text it shows is recorded, so a
    // machine slow to answer WebDriver cannot miss it.
    browser.execute(
        "window.gdToasts = [];
         if (!window.gdToastWatch) {
           window.gdToastWatch = new MutationObserver(() => {
             const t = document.querySelector('#toast');
             if (t && t.textContent) window.gdToasts.push(t.textContent);
           });
           window.gdToastWatch.observe(document.body,
             {subtree: true, childList: true, characterData: true});
         }",
        vec![],
    );
    browser.click_button("上报 Submit");
    browser.wait_until_script(
        "the toast 已保存 (saved)",
        "return window.gdToasts.some(t => t.includes('已保存'));",
    );
    browser.wait_until_script(
        "the form to be emptied",
        "return document.querySelectorAll('.fd-thumb').length === 0;",
    );
}

/// The reports the dispatcher sees with this description.
fn reports_with(town: &Town, description: &str) -> Vec<Value> {
    let page = town.get("dispatcher", "/api/v1/reports?per_page=200");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["report"].clone())
        .filter(|r| r["description"] == description)
        .collect()
}

#[test]
fn a_grid_member_reports_offline_restarts_the_app_and_every_report_arrives_exactly_once() {
    let Some((town, browser)) = setup("field: offline reports arrive exactly once") else {
        return;
    };
    let here = town.here();
    gps(&browser, here.lat, here.lon, 8.0);
    sign_in(&browser, &town, "grid_member");
    let signed_in = Instant::now();
    // Installed: the service worker controls the page, the categories and the position are in.
    browser.wait_until_script(
        "the service worker to control the app",
        "return navigator.serviceWorker.controller !== null;",
    );
    browser.wait_until_script(
        "the categories of the first sync",
        "return document.querySelectorAll('#category option').length > 5;",
    );
    browser.wait_for_text("#position", "±8 米");

    // No signal from here on.
    town.proxy.set_offline(true);
    let dir = tempfile::tempdir().unwrap();
    let tag = &uuid::Uuid::now_v7().simple().to_string()[20..];
    // The first photo is large enough to go up in several pieces (the cut below).
    let photos = [
        jpeg(1600, 1200, 11, 60),
        jpeg(640, 480, 12, 16),
        jpeg(640, 480, 13, 16),
    ];
    assert!(photos[0].len() > 600 * 1024, "{}", photos[0].len());
    let notes = [
        format!("村道旁垃圾堆积（{tag}-1）"),
        format!("墙面乱张贴小广告（{tag}-2）"),
        format!("店外占道经营（{tag}-3）"),
    ];
    let categories = ["0101", "0202", "0401"];
    for i in 0..2 {
        let p = photo(dir.path(), &format!("p{i}.jpg"), &photos[i]);
        report(&browser, &p, categories[i], &notes[i]);
    }
    // The SHA-256 taken at capture is the file's, by Web Crypto and by the vendored fallback
    // that a plain-http intranet page (no crypto.subtle) uses.
    let hashes = browser.execute_async(
        "const done = arguments[arguments.length - 1];
         (async () => {
           const u = (await GDField.snapshot()).uploads[0];
           const blob = await GDField.localBlob(u.attachment_id);
           done([u.sha256, await GDField.sha256Fallback(blob)]);
         })();",
        vec![],
    );
    assert_eq!(
        hashes,
        json!([sha256_hex(&photos[0]), sha256_hex(&photos[0])])
    );
    // One taken far outside the member's village: the server will refuse it.
    gps(&browser, 31.2304, 121.4737, 15.0);
    browser.click_button("重新定位");
    browser.wait_for_text("#position", "31.230400");
    let outside = format!("村外的事件（{tag}-x）");
    let p = photo(dir.path(), "outside.jpg", &jpeg(640, 480, 14, 16));
    report(&browser, &p, "0101", &outside);
    gps(&browser, here.lat, here.lon, 8.0);
    browser.click_button("重新定位");
    browser.wait_for_text("#position", "±8 米");
    let p = photo(dir.path(), "p2.jpg", &photos[2]);
    report(&browser, &p, categories[2], &notes[2]);
    browser.wait_for_text("#waiting", "待发送 4 项操作 · 4 个文件");
    browser.wait_for_text("#net-state", "离线");

    // An app restart with no signal: the shell comes from the service worker's cache and the
    // queue from IndexedDB.
    browser.refresh();
    browser.wait_for("#current-user");
    browser.wait_for_text("#waiting", "待发送 4 项操作 · 4 个文件");
    browser.wait_for("#tab-mine").click();
    for note in notes.iter().chain([&outside]) {
        browser.wait_for_text("[data-report]", note);
    }
    assert!(
        reports_with(&town, &notes[0]).is_empty(),
        "nothing left the phone"
    );

    // The access token has expired by the time the signal comes back (30 s, and the server's
    // 5 s leeway for clocks).
    let expired = Duration::from_secs(37);
    if let Some(rest) = expired.checked_sub(signed_in.elapsed()) {
        std::thread::sleep(rest);
    }
    // The connection drops in the middle of the large photo's second piece.
    town.proxy
        .fail("PATCH", "/files/", 1, Fault::CutRequest(100 * 1024));
    let mark = town.proxy.seen().len();
    town.proxy.set_offline(false);
    browser.click_button("立即同步");
    browser.wait_for_text("#waiting", "待发送 0 项操作 · 0 个文件");

    // The refused one shows the server's reason; the others went on.
    let refused = browser.wait_for_text(".fd-refused", "被退回");
    let text = refused.text();
    assert!(text.contains(&outside), "{text}");
    assert!(text.contains("网格"), "the reason in Chinese: {text}");
    assert!(reports_with(&town, &outside).is_empty());
    // Read: it leaves the panel, and stays among the member's own reports with its reason.
    refused.find_all("button")[0].click();
    browser.wait_gone(".fd-refused", "被退回");
    browser.wait_for_text("[data-report]", "退回原因");

    // Each report arrived once, its photo whole (the SHA-256 taken on the phone at capture).
    for (note, bytes) in notes.iter().zip(&photos) {
        let found = reports_with(&town, note);
        assert_eq!(found.len(), 1, "{note}: {found:?}");
        let ids = found[0]["attachment_ids"].as_array().unwrap();
        assert_eq!(ids.len(), 1, "{:?}", found[0]);
        let id = ids[0].as_str().unwrap();
        let a = town.get("dispatcher", &format!("/api/v1/attachments/{id}"));
        assert_eq!(a["sha256"], sha256_hex(bytes), "{note}: {a}");
        assert_eq!(a["size"], bytes.len(), "{a}");
    }

    // The token was refreshed on the way, and the cut upload resumed from the server's offset:
    // asked with HEAD after the cut, never created again.
    let seen: Vec<String> = town.proxy.seen()[mark..].to_vec();
    assert!(
        seen.iter().any(|s| s == "POST /api/v1/auth/refresh"),
        "{seen:?}"
    );
    assert_eq!(town.proxy.fired().len(), 1, "{:?}", town.proxy.fired());
    let cut = seen
        .iter()
        .position(|s| s.starts_with("PATCH /files/"))
        .unwrap();
    let cut_upload = town.proxy.fired()[0]
        .trim_start_matches("PATCH ")
        .to_owned();
    assert!(
        seen[cut..]
            .iter()
            .any(|s| *s == format!("HEAD {cut_upload}")),
        "no HEAD of {cut_upload} after the cut: {seen:?}"
    );
    assert_eq!(
        seen.iter()
            .filter(|s| s.starts_with("POST /files/"))
            .count(),
        4,
        "each file created once: {seen:?}"
    );
    // The phone shows them as the server has them.
    browser.wait_for_text("[data-report]", "待受理");
}

/// A hotline report dispatched over REST to squad1, at the demo position; the task id.
pub(crate) fn dispatched_task(town: &Town, category: &str, description: &str) -> String {
    let report = uuid::Uuid::now_v7().to_string();
    let task = uuid::Uuid::now_v7().to_string();
    let here = town.here();
    town.command(
        "dispatcher",
        json!({"type": "create_report", "report_id": report, "source": "hotline",
               "category_code": category, "description": description,
               "position": {"lat": here.lat, "lon": here.lon}, "attachment_ids": [],
               "contact": {"name": "王女士", "phone": "13900000000"}}),
    );
    town.command(
        "dispatcher",
        json!({"type": "dispatch_report", "report_id": report, "task_id": task,
               "squad_id": town.squad_id("squad1")}),
    );
    task
}

/// Sign out from the header and wait for the sign-in form.
pub(crate) fn sign_out(browser: &Browser) {
    browser.wait_for("#logout").click();
    browser.wait_for("#login-submit");
}

#[test]
fn a_squad_handles_offline_with_before_and_after_photos_the_dispatcher_sees_it_and_the_grid_member_rechecks(
) {
    let Some((town, browser)) = setup("field: a squad's offline handling reaches the dispatcher")
    else {
        return;
    };
    let here = town.here();
    gps(&browser, here.lat, here.lon, 6.0);
    let tag = &uuid::Uuid::now_v7().simple().to_string()[20..];
    let task = dispatched_task(&town, "0401", &format!("菜市场门口占道经营（{tag}）"));

    // The squad leader accepts on the phone, picking two officers by name.
    sign_in(&browser, &town, "squad_leader");
    browser.wait_for("#tab-tasks").click();
    let card = format!("[data-task='{task}']");
    browser
        .wait_for(&format!("{card} [data-action='accept']"))
        .click();
    browser
        .wait_for_text(&format!("{card} [data-officer='officer']"), "刘洋")
        .click();
    browser
        .wait_for_text(&format!("{card} [data-officer='officer2']"), "孙磊")
        .click();
    browser.wait_for_text("#accept-confirm", "2 人").click();
    browser.wait_for_text("#waiting", "待发送 0 项操作");
    assert_eq!(town.task(&task)["status"], "accepted");
    sign_out(&browser);

    // An officer on the same phone: the task comes with the sign-in; then the signal goes.
    sign_in(&browser, &town, "officer");
    browser.wait_for(&format!("{card} [data-action='arrive']"));
    town.proxy.set_offline(true);
    browser
        .wait_for(&format!("{card} [data-action='arrive']"))
        .click();
    browser.wait_for_text(card.as_str(), "处置中（待发送）");
    browser
        .wait_for(&format!("{card} [data-action='handle']"))
        .click();
    let dir = tempfile::tempdir().unwrap();
    let before = jpeg(800, 600, 41, 20);
    let after = jpeg(800, 600, 42, 20);
    browser.wait_for_present("#before-input").send_keys(
        &photo(dir.path(), "before.jpg", &before)
            .display()
            .to_string(),
    );
    browser.wait_until_script(
        "the before photo",
        "return document.querySelectorAll('.fd-panel .fd-thumb').length === 1;",
    );
    browser
        .wait_for_present("#after-input")
        .send_keys(&photo(dir.path(), "after.jpg", &after).display().to_string());
    browser.wait_until_script(
        "the after photo",
        "return document.querySelectorAll('.fd-panel .fd-thumb').length === 2;",
    );
    browser
        .wait_for(&format!("{card} [data-field='note']"))
        .replace_text("已责令当事人将摊位移回店内");
    browser.wait_for("#handle-confirm").click();
    browser.wait_for_text(card.as_str(), "已处置（待发送）");
    browser.wait_for_text("#waiting", "待发送 2 项操作 · 2 个文件");
    assert_eq!(
        town.task(&task)["status"],
        "accepted",
        "nothing left the phone"
    );

    // Signal again: both commands applied in order, both photos whole, and the dispatcher
    // sees the handled task with its before and after photos.
    town.proxy.set_offline(false);
    browser.click_button("立即同步");
    browser.wait_for_text("#waiting", "待发送 0 项操作 · 0 个文件");
    let t = town.task(&task);
    assert_eq!(t["status"], "handled", "{t}");
    assert_eq!(t["outcome"]["outcome"], "rectified", "{t}");
    let ids = t["outcome_attachment_ids"].as_array().unwrap();
    assert_eq!(ids.len(), 2, "{t}");
    for (id, bytes) in ids.iter().zip([&before, &after]) {
        let a = town.get(
            "dispatcher",
            &format!("/api/v1/attachments/{}", id.as_str().unwrap()),
        );
        assert_eq!(a["sha256"], sha256_hex(bytes), "{a}");
    }
    assert!(t["arrived_at"].is_string(), "{t}");
    browser.wait_for_text(card.as_str(), "已处置");
    sign_out(&browser);

    // The squad leader closes it; the grid member of the village re-checks it on the phone,
    // looking at the officers' before and after photos.
    sign_in(&browser, &town, "squad_leader");
    browser.wait_for("#tab-tasks").click();
    browser
        .wait_for(&format!("{card} [data-action='close']"))
        .click();
    browser.wait_for_text("#waiting", "待发送 0 项操作");
    assert_eq!(town.task(&task)["status"], "closed");
    sign_out(&browser);
    sign_in(&browser, &town, "grid_member");
    browser.wait_for("#tab-tasks").click();
    browser
        .wait_for(&format!("{card} [data-action='recheck']"))
        .click();
    for (id, label) in ids.iter().zip(["处置前", "处置后"]) {
        let id = id.as_str().unwrap();
        browser.wait_for_text(&format!("[data-evidence='{id}']"), label);
        browser.wait_until_script(
            "the officers' photo to be shown",
            &format!(
                "const i = document.querySelector(\"[data-evidence='{id}'] img\"); \
                 return !!i && i.complete && i.naturalWidth > 0;"
            ),
        );
    }
    browser
        .wait_for(&format!("{card} [data-field='note']"))
        .replace_text("摊位已移回店内，通道畅通");
    browser.wait_for("#recheck-confirm").click();
    browser.wait_for_text("#waiting", "待发送 0 项操作");
    let t = town.task(&task);
    assert_eq!(t["status"], "verified", "{t}");
    // Done with: it leaves the to-do list.
    browser.wait_gone(card.as_str(), "");
}

/// `gridsync` (the Rust engine's command line) with its own data directory.
fn gridsync(dir: &Path, args: &[&str], stdin: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new(griddispatch_e2e::gridsync_binary())
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start gridsync");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "gridsync {args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn gridsync_and_the_field_app_of_one_grid_member_see_each_others_reports() {
    let Some((town, browser)) = setup("field: gridsync and the app interoperate") else {
        return;
    };
    let here = town.here();
    gps(&browser, here.lat, here.lon, 5.0);
    let tag = &uuid::Uuid::now_v7().simple().to_string()[20..];
    let dir = tempfile::tempdir().unwrap();

    // The member's other device, `gridsync`, files a report.
    let phone = dir.path().join("gridsync");
    gridsync(
        &phone,
        &[
            "login",
            "--server",
            &town.phone_url(),
            "--username",
            "grid_member",
        ],
        &format!("{PASSWORD}\n"),
    );
    let from_cli = format!("gridsync 上报的事件（{tag}）");
    let pic = photo(dir.path(), "cli.jpg", &jpeg(640, 480, 51, 16));
    let (lat, lon) = (here.lat.to_string(), here.lon.to_string());
    gridsync(
        &phone,
        &[
            "report",
            "--category",
            "0101",
            "--note",
            &from_cli,
            "--photo",
            pic.to_str().unwrap(),
            "--lat",
            &lat,
            "--lon",
            &lon,
        ],
        "",
    );
    gridsync(&phone, &["sync"], "");

    // The app shows it among the member's own reports, and files one of its own.
    sign_in(&browser, &town, "grid_member");
    let from_app = format!("网格通上报的事件（{tag}）");
    browser.wait_until_script(
        "the categories of the first sync",
        "return document.querySelectorAll('#category option').length > 5;",
    );
    browser.wait_for_text("#position", "±5 米");
    let p = photo(dir.path(), "app.jpg", &jpeg(640, 480, 52, 16));
    report(&browser, &p, "0202", &from_app);
    browser.wait_for_text("#waiting", "待发送 0 项操作 · 0 个文件");
    browser.wait_for("#tab-mine").click();
    browser.wait_for_text("[data-report]", &from_cli);
    browser.wait_for_text("[data-report]", &from_app);

    // gridsync sees the app's report after its next sync; each arrived once.
    gridsync(&phone, &["sync"], "");
    let listed = gridsync(&phone, &["reports"], "");
    assert!(listed.contains(&from_app), "{listed}");
    assert_eq!(reports_with(&town, &from_cli).len(), 1);
    assert_eq!(reports_with(&town, &from_app).len(), 1);
}

#[test]
fn a_revoked_phone_keeps_its_queue_for_the_same_users_next_sign_in_only() {
    let Some((town, browser)) = setup("field: a revoked phone keeps its queue") else {
        return;
    };
    let here = town.here();
    gps(&browser, here.lat, here.lon, 7.0);
    sign_in(&browser, &town, "grid_member");
    browser.wait_until_script(
        "the categories of the first sync",
        "return document.querySelectorAll('#category option').length > 5;",
    );
    browser.wait_for_text("#position", "±7 米");
    let device = browser.execute_async(
        "const done = arguments[arguments.length - 1]; GDField.deviceId().then(done);",
        vec![],
    );
    let device = device.as_str().unwrap().to_owned();

    // Offline, a report; meanwhile the phone is signed out from another device (reported lost).
    town.proxy.set_offline(true);
    let tag = &uuid::Uuid::now_v7().simple().to_string()[20..];
    let note = format!("手机被注销前的上报（{tag}）");
    let dir = tempfile::tempdir().unwrap();
    let p = photo(dir.path(), "p.jpg", &jpeg(640, 480, 61, 16));
    report(&browser, &p, "0101", &note);
    let (status, body) = town.post(
        "grid_member",
        &format!("/api/v1/me/devices/{device}/revoke"),
        &json!({}),
    );
    assert!(status < 300, "revoke: {status} {body}");

    // Signal again: the refresh is refused, the app signs out and keeps the queue in view.
    town.proxy.set_offline(false);
    browser.click_button("立即同步");
    browser.wait_for("#login-submit");
    browser.wait_for_text("#sync-error", "登录已失效");
    browser.wait_for_text("#waiting", "待发送 1 项操作 · 1 个文件");
    browser.wait_for_text("#queue-owner", "grid_member");
    assert!(reports_with(&town, &note).is_empty());

    // Another user on this phone does not send it.
    browser.wait_for("#login-username").send_keys("officer");
    browser.wait_for("#login-password").send_keys(PASSWORD);
    browser.wait_for("#login-submit").click();
    browser.wait_for("#current-user");
    browser.wait_for_text("#queue", "另有 1 项其他账号的操作");
    browser.wait_for_text("#waiting", "待发送 0 项操作");
    assert!(reports_with(&town, &note).is_empty());
    sign_out(&browser);

    // The same user signs in again: it goes out, once.
    browser.wait_for("#login-username").send_keys("grid_member");
    browser.wait_for("#login-password").send_keys(PASSWORD);
    browser.wait_for("#login-submit").click();
    browser.wait_for("#current-user");
    browser.wait_for_text("#waiting", "待发送 0 项操作 · 0 个文件");
    let found = reports_with(&town, &note);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["status"], "reported", "{:?}", found[0]);
}

#[test]
fn an_officer_decides_a_simple_penalty_on_the_phone_within_the_legal_limit() {
    let Some((town, browser)) = setup("field: a simple penalty within the limit") else {
        return;
    };
    let here = town.here();
    gps(&browser, here.lat, here.lon, 6.0);
    let tag = &uuid::Uuid::now_v7().simple().to_string()[20..];
    let task = dispatched_task(&town, "0101", &format!("店主向路边倾倒垃圾（{tag}）"));
    town.command(
        "squad_leader",
        json!({"type": "accept_task", "task_id": task,
               "officer_ids": [town.user_id("officer"), town.user_id("officer2")]}),
    );
    town.command(
        "officer",
        json!({"type": "arrive_on_site", "task_id": task,
               "position": {"lat": here.lat, "lon": here.lon}}),
    );

    sign_in(&browser, &town, "officer");
    let card = format!("[data-task='{task}']");
    browser
        .wait_for(&format!("{card} [data-action='handle']"))
        .click();
    browser
        .wait_for_present("#outcome option[value='simple_penalty']")
        .click();
    browser
        .wait_for(&format!("{card} [data-field='party_name']"))
        .send_keys("李某");
    browser
        .wait_for_present(&format!(
            "{card} [data-field='penalty'] option[value='fine']"
        ))
        .click();
    let fine = browser.wait_for(&format!("{card} [data-field='fine']"));
    fine.send_keys("300");
    browser
        .wait_for(&format!("{card} [data-field='facts']"))
        .send_keys("当事人向路边倾倒生活垃圾");
    browser
        .wait_for(&format!("{card} [data-field='legal_basis']"))
        .send_keys("《城市市容和环境卫生管理条例》第三十四条");
    let dir = tempfile::tempdir().unwrap();
    let evidence = photo(dir.path(), "evidence.jpg", &jpeg(800, 600, 71, 20));
    browser
        .wait_for_present("#before-input")
        .send_keys(&evidence.display().to_string());
    browser.wait_until_script(
        "the evidence photo",
        "return document.querySelectorAll('.fd-panel .fd-thumb').length === 1;",
    );
    browser.wait_for("#handle-confirm").click();
    // Over the limit for a person: said on the phone, nothing queued.
    browser.wait_for_text(&format!("{card} .fd-error"), "200 元以内");
    browser.wait_for_text("#waiting", "待发送 0 项操作");
    browser
        .wait_for(&format!("{card} [data-field='fine']"))
        .replace_text("150");
    browser.wait_for("#handle-confirm").click();
    browser.wait_for_text(card.as_str(), "已处置");
    browser.wait_for_text("#waiting", "待发送 0 项操作 · 0 个文件");
    let t = town.task(&task);
    assert_eq!(t["status"], "handled", "{t}");
    assert_eq!(t["outcome"]["outcome"], "simple_penalty", "{t}");
    assert_eq!(t["outcome"]["penalty"]["amount_fen"], 15000, "{t}");
    assert_eq!(t["outcome"]["party_name"], "李某", "{t}");
    // The decision paper to hand the party, once the server has numbered it.
    let number = t["decision_number"].as_str().unwrap().to_owned();
    browser.wait_for_text(card.as_str(), &number);
    browser.wait_for(&format!("{card} [data-decision]")).click();
    // The PDF opens in its own tab; nothing went wrong on the card.
    let errors: Vec<String> = browser
        .all(&format!("{card} .fd-error"))
        .iter()
        .map(|e| e.text())
        .collect();
    assert!(errors.is_empty(), "the decision opened: {errors:?}");
}

#[test]
fn a_squad_leader_reads_the_duty_chiefs_escalation_in_the_inbox() {
    let Some((town, browser)) = setup("field: notifications") else {
        return;
    };
    let tag = &uuid::Uuid::now_v7().simple().to_string()[20..];
    let task = dispatched_task(&town, "0401", &format!("占道经营久拖未处理（{tag}）"));
    sign_in(&browser, &town, "squad_leader");
    browser.wait_for(&format!("[data-task='{task}']"));
    let reason = format!("群众多次投诉，请今日处置（{tag}）");
    town.command(
        "duty_chief",
        json!({"type": "escalate_task", "task_id": task, "reason": reason}),
    );
    browser.click_button("立即同步");
    browser.wait_for_text("#tab-inbox .fd-badge", "1");
    browser.wait_for("#tab-inbox").click();
    let item = browser.wait_for_text("[data-notification]", &reason);
    assert!(item.text().contains("督办"), "{}", item.text());
    // Seen: marked read here and on the server.
    browser.wait_gone("#tab-inbox .fd-badge", "1");
    let read = || {
        town.get("squad_leader", "/api/v1/me/notifications")
            .as_array()
            .unwrap()
            .iter()
            .any(|n| {
                n["message"].as_str().unwrap_or("").contains(&reason) && !n["read_at"].is_null()
            })
    };
    let started = Instant::now();
    while !read() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "not marked read on the server"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn an_upload_cut_half_way_resumes_from_the_servers_offset_after_an_app_restart() {
    let Some((town, browser)) = setup("field: an upload resumes after a restart") else {
        return;
    };
    let here = town.here();
    gps(&browser, here.lat, here.lon, 5.0);
    sign_in(&browser, &town, "grid_member");
    browser.wait_until_script(
        "the service worker and the categories",
        "return navigator.serviceWorker.controller !== null && \
         document.querySelectorAll('#category option').length > 5;",
    );
    browser.wait_for_text("#position", "±5 米");
    let tag = &uuid::Uuid::now_v7().simple().to_string()[20..];
    let note = format!("大照片断点续传（{tag}）");
    let big = jpeg(1600, 1200, 81, 60);
    let dir = tempfile::tempdir().unwrap();
    // The third piece is cut; right then the signal goes (in the proxy, at the cut: the app's
    // retries are quicker than this test) and the app is closed and reopened.
    town.proxy.fail(
        "PATCH",
        "/files/",
        2,
        Fault::CutRequestThenOffline(50 * 1024),
    );
    let p = photo(dir.path(), "big.jpg", &big);
    report(&browser, &p, "0101", &note);
    let started = Instant::now();
    while town.proxy.fired().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(20), "no cut");
        std::thread::sleep(Duration::from_millis(5));
    }
    town.proxy.set_offline(true);
    let upload = town.proxy.fired()[0]
        .trim_start_matches("PATCH ")
        .to_owned();
    browser.refresh();
    browser.wait_for("#current-user");
    browser.wait_for_text("#waiting", "1 个文件");
    // The progress kept across the restart: at least the two pieces the server acknowledged.
    let kept = 2 * 256 * 1024 * 100 / big.len();
    assert!(kept > 0 && kept < 100, "{}", big.len());
    browser.wait_until_script(
        "the kept progress",
        &format!(
            "const p = document.querySelector('[data-upload] progress'); \
             return !!p && p.value >= {kept};"
        ),
    );

    let mark = town.proxy.seen().len();
    town.proxy.set_offline(false);
    browser.click_button("立即同步");
    browser.wait_for_text("#waiting", "待发送 0 项操作 · 0 个文件");
    let seen = town.proxy.seen()[mark..].to_vec();
    assert_eq!(
        seen.iter().position(|s| s.starts_with("HEAD /files/")
            || s.starts_with("PATCH /files/")
            || s.starts_with("POST /files/")),
        seen.iter().position(|s| *s == format!("HEAD {upload}")),
        "the first upload request after the restart asks the server's offset: {seen:?}"
    );
    assert!(
        !seen.iter().any(|s| s == "POST /files/"),
        "the upload is not created again: {seen:?}"
    );
    let found = reports_with(&town, &note);
    assert_eq!(found.len(), 1, "{found:?}");
    let id = found[0]["attachment_ids"][0].as_str().unwrap();
    let a = town.get("dispatcher", &format!("/api/v1/attachments/{id}"));
    assert_eq!(a["sha256"], sha256_hex(&big), "{a}");
}
