//! Measurements of the field app for docs/benchmarks.md ("Field app"), on a debug or release
//! build of the binary — not assertions (speed is never asserted in tests):
//!
//! ```sh
//! cargo build --release -p griddispatch
//! cargo test --release -p griddispatch-e2e --test field -- --ignored --nocapture field_app_numbers
//! ```

use std::time::Instant;

use griddispatch_e2e::media::mp4;
use serde_json::json;

use crate::{gps, photo, setup, sign_in};

/// Chromium's network emulation (the DevTools presets' figures): latency in ms, throughput in
/// bytes per second.
fn throttle(browser: &griddispatch_e2e::browser::Browser, latency: u32, down: f64, up: f64) {
    browser.cdp("Network.enable", json!({}));
    browser.cdp(
        "Network.emulateNetworkConditions",
        json!({"offline": false, "latency": latency, "downloadThroughput": down,
               "uploadThroughput": up}),
    );
}

/// Open `/m/` and return the milliseconds from navigation to the first screen.
fn open_ms(browser: &griddispatch_e2e::browser::Browser, url: &str) -> f64 {
    browser.goto(url);
    browser.wait_until_script("the first screen", "return !!window.gdReadyAt;");
    browser
        .execute("return window.gdReadyAt;", vec![])
        .as_f64()
        .unwrap()
}

#[test]
#[ignore = "a measurement for docs/benchmarks.md, not a test"]
fn field_app_numbers() {
    let Some((town, browser)) = setup("field_app_numbers") else {
        return;
    };
    let url = format!("{}/m/", town.phone_url());
    // The shell as a phone downloads it (compressed as the browser accepts).
    let http = reqwest::blocking::Client::new();
    let shell: Vec<String> = {
        let sw = http
            .get(format!("{url}sw.js"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        let list = sw
            .split("const SHELL = ")
            .nth(1)
            .unwrap()
            .split(';')
            .next()
            .unwrap();
        serde_json::from_str(list).unwrap()
    };
    let (mut raw, mut gz) = (0usize, 0usize);
    for f in &shell {
        let body = http
            .get(format!("{}{f}", town.phone_url()))
            .send()
            .unwrap()
            .bytes()
            .unwrap();
        raw += body.len();
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut e, &body).unwrap();
        gz += e.finish().unwrap().len();
    }
    println!(
        "app shell: {} files, {:.0} KiB, {:.0} KiB gzipped",
        shell.len(),
        raw as f64 / 1024.0,
        gz as f64 / 1024.0
    );

    // First open over "Regular 3G" (100 ms, 750 kbit/s down, 250 kbit/s up), no cache.
    throttle(&browser, 100, 750.0 * 1024.0 / 8.0, 250.0 * 1024.0 / 8.0);
    let cold = open_ms(&browser, &url);
    println!("first open over 3G (no cache): {cold:.0} ms");
    // Installed: the service worker has the shell; opened again with no signal at all.
    throttle(&browser, 0, -1.0, -1.0);
    browser.wait_until_script(
        "the service worker",
        "return navigator.serviceWorker.controller !== null;",
    );
    town.proxy.set_offline(true);
    let mut cached = Vec::new();
    for _ in 0..5 {
        cached.push(open_ms(&browser, &url));
    }
    cached.sort_by(f64::total_cmp);
    println!(
        "open from the cache, offline (median of 5): {:.0} ms",
        cached[2]
    );
    throttle(&browser, 100, 750.0 * 1024.0 / 8.0, 250.0 * 1024.0 / 8.0);
    let mut warm = Vec::new();
    town.proxy.set_offline(false);
    for _ in 0..3 {
        warm.push(open_ms(&browser, &url));
    }
    warm.sort_by(f64::total_cmp);
    println!(
        "open from the cache, online over 3G (median of 3): {:.0} ms",
        warm[1]
    );

    // A 10 MB video over a throttled uplink (2 Mbit/s, 100 ms).
    throttle(&browser, 0, -1.0, -1.0);
    let here = town.here();
    gps(&browser, here.lat, here.lon, 5.0);
    sign_in(&browser, &town, "grid_member");
    browser.wait_until_script(
        "the categories",
        "return document.querySelectorAll('#category option').length > 5;",
    );
    let dir = tempfile::tempdir().unwrap();
    let video = photo(dir.path(), "clip.mp4", &mp4(10 * 1024 * 1024, 7));
    throttle(
        &browser,
        100,
        2.0 * 1024.0 * 1024.0 / 8.0,
        2.0 * 1024.0 * 1024.0 / 8.0,
    );
    let started = Instant::now();
    browser
        .wait_for_present("#video-input")
        .send_keys(&video.display().to_string());
    browser.wait_for_text("#waiting", "1 个文件");
    let queued = started.elapsed();
    let deadline = Instant::now() + std::time::Duration::from_secs(900);
    loop {
        let waiting = browser.wait_for("#waiting").text();
        if waiting.contains(" 0 个文件") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "upload did not finish: {waiting}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    println!(
        "10 MiB video over 2 Mbit/s: hashed and queued after {:.1} s, on the server after {:.1} s",
        queued.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

/// Not a check: regenerates `docs/screenshots/field-*.png`, the phone screens (390×844) on the
/// demo data, for the grid member's and the squad's guides. Needs a CJK font (Debian:
/// `fonts-wqy-microhei`). Run with
/// `cargo test -p griddispatch-e2e --test field -- --ignored regenerate_field_screenshots`.
#[test]
#[ignore = "writes docs/screenshots; run on demand"]
fn regenerate_field_screenshots() {
    let Some((town, browser)) = setup("regenerate_field_screenshots") else {
        return;
    };
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    let shot = |name: &str| {
        browser.wait_gone("#toast", "");
        browser.screenshot(&out.join(format!("{name}.png")));
    };
    let here = town.here();
    gps(&browser, here.lat, here.lon, 8.0);
    let task = crate::dispatched_task(&town, "0401", "菜市场门口流动摊贩占道经营（演示）");

    browser.goto(&format!("{}/m/", town.phone_url()));
    browser.wait_for("#login-submit");
    shot("field-login");

    sign_in(&browser, &town, "grid_member");
    browser.wait_until_script(
        "the categories",
        "return document.querySelectorAll('#category option').length > 5;",
    );
    browser.wait_for_text("#position", "±8 米");
    town.proxy.set_offline(true);
    let dir = tempfile::tempdir().unwrap();
    let p = photo(
        dir.path(),
        "patrol.jpg",
        &griddispatch_e2e::media::jpeg(1200, 900, 5, 20),
    );
    crate::report(&browser, &p, "0101", "村口垃圾桶满溢，垃圾散落路面（演示）");
    browser
        .wait_for_present("#photo-input")
        .send_keys(&p.display().to_string());
    browser.wait_for(".fd-thumb img");
    browser
        .wait_for_present("#category option[value='0202']")
        .click();
    browser
        .wait_for("#description")
        .replace_text("电线杆上新贴小广告（演示）");
    shot("field-report-offline");
    browser.wait_for("#tab-mine").click();
    browser.wait_for("[data-report]");
    shot("field-my-reports");
    town.proxy.set_offline(false);
    browser.click_button("立即同步");
    browser.wait_for_text("#waiting", "待发送 0 项操作 · 0 个文件");
    crate::sign_out(&browser);

    sign_in(&browser, &town, "squad_leader");
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
    browser.execute(
        "document.querySelector(arguments[0]).scrollIntoView();",
        vec![json!(card)],
    );
    shot("field-squad-accept");
    browser.wait_for("#accept-confirm").click();
    browser.wait_for_text("#waiting", "待发送 0 项操作");
    crate::sign_out(&browser);

    sign_in(&browser, &town, "officer");
    browser
        .wait_for(&format!("{card} [data-action='arrive']"))
        .click();
    browser
        .wait_for(&format!("{card} [data-action='handle']"))
        .click();
    let before = photo(
        dir.path(),
        "before.jpg",
        &griddispatch_e2e::media::jpeg(800, 600, 41, 20),
    );
    let after = photo(
        dir.path(),
        "after.jpg",
        &griddispatch_e2e::media::jpeg(800, 600, 42, 20),
    );
    browser
        .wait_for_present("#before-input")
        .send_keys(&before.display().to_string());
    browser
        .wait_for_present("#after-input")
        .send_keys(&after.display().to_string());
    browser.wait_until_script(
        "two photos",
        "return document.querySelectorAll('.fd-panel .fd-thumb img').length === 2;",
    );
    browser
        .wait_for(&format!("{card} [data-field='note']"))
        .replace_text("已责令当事人将摊位移回店内（演示）");
    browser.execute(
        "document.querySelector(arguments[0]).scrollIntoView();",
        vec![json!(card)],
    );
    shot("field-officer-handle");
}
