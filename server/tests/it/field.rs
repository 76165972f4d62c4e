//! The field app 网格通 (`/m/`): its files served from the binary under a CSP of 'self' only,
//! its service worker carrying the shell it keeps offline, compressed for slow links.

use crate::common::{assert_error, TestApp};

#[actix_web::test]
async fn the_field_app_is_served_under_a_self_only_csp_with_its_service_worker_and_manifest() {
    let app = TestApp::spawn().await;
    let page = app.get("/m/", None).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(
        csp.contains("script-src 'self';"),
        "no eval, no inline: {csp}"
    );
    assert!(csp.contains("img-src 'self' data: blob:;"), "{csp}");
    for part in csp.split(';') {
        for source in part.split_whitespace().skip(1) {
            assert!(
                ["'self'", "'none'", "data:", "blob:"].contains(&source),
                "{source} in {csp}"
            );
        }
    }
    let html = page.text().await.unwrap();
    assert!(html.contains("网格通"));
    assert!(html.contains("/m/manifest.webmanifest"));
    assert!(
        !html.contains("https://") && !html.contains("<script>"),
        "{html}"
    );

    // Without the slash: to the page.
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/m"))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 308);
    assert_eq!(bare.headers()["location"], "/m/");

    // The service worker: revalidated on every load, naming every file of the shell and a
    // version, so that a new binary replaces the cached app.
    let sw = app.get("/m/sw.js", None).await;
    assert_eq!(sw.status(), 200);
    assert_eq!(sw.headers()["cache-control"], "no-cache");
    let sw = sw.text().await.unwrap();
    assert!(!sw.contains("__VERSION__") && !sw.contains("__SHELL__"));
    for f in [
        "\"/m/\"",
        "\"/m/app.js\"",
        "\"/m/engine.js\"",
        "\"/m/vendor/vue/vue.runtime.global.prod.js\"",
        "\"/console/labels.js\"",
    ] {
        assert!(sw.contains(f), "{f} not kept offline");
    }
    // Everything it keeps is served.
    let list = sw.split("const SHELL = ").nth(1).unwrap();
    let list: Vec<String> = serde_json::from_str(list.split(';').next().unwrap()).unwrap();
    for f in &list {
        assert_eq!(app.get(f, None).await.status(), 200, "{f}");
    }

    let manifest = app.get("/m/manifest.webmanifest", None).await;
    assert_eq!(
        manifest.headers()["content-type"],
        "application/manifest+json"
    );
    let m: serde_json::Value = manifest.json().await.unwrap();
    assert_eq!(m["scope"], "/m/");
    assert_eq!(m["start_url"], "/m/");

    // Compressed for a phone on a slow link.
    let js = app
        .client
        .get(app.url("/m/vendor/vue/vue.runtime.global.prod.js"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert_eq!(js.headers()["content-encoding"], "gzip");
}

#[actix_web::test]
async fn unknown_field_app_files_and_the_vendoring_records_are_not_found() {
    let app = TestApp::spawn().await;
    for path in [
        "/m/nothing.js",
        "/m/vendor.sh",
        "/m/vendor/SHA256SUMS",
        "/m/vendor/vue/LICENSE",
    ] {
        assert_error(app.get(path, None).await, 404, "not_found").await;
    }
}
