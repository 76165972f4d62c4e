//! The field app (网格通): the installable, offline-first web app for grid members, squad
//! leaders and officers — the static files under `mobile-sync/app/` (the app and its vendored
//! browser libraries), embedded in the binary. `GET /m/` is the app's page, `GET /m/{path}` its
//! assets, `GET /m/sw.js` its service worker (scope `/m/`), which keeps the app shell so that
//! the app opens with no signal. The app talks to the server only through the sync protocol
//! (`/sync/v1`), tus (`/files/`) and the sign-in and reference endpoints of `/api/v1`.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use super::console;
use crate::error::AppError;

/// The files of `mobile-sync/app/`.
#[derive(RustEmbed)]
#[folder = "../mobile-sync/app/"]
struct Assets;

/// The app runs only what the binary serves, with no `eval` (Vue's runtime-only build; screens
/// are render functions) and no inline script or style; images may be the phone's own captures
/// (`blob:`) and `data:` URLs.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; \
    object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Files beside the app that are not part of it (the re-vendoring script and its records).
fn hidden(path: &str) -> bool {
    path.ends_with(".sh")
        || path.ends_with("SHA256SUMS")
        || path.ends_with("VERSIONS")
        || path.contains("LICENSE")
}

/// What the service worker keeps for offline use: every file of the app, and the console's
/// vocabulary it shares. The order is fixed (sorted) so that the list and its hash are stable.
fn shell() -> Vec<String> {
    let mut files: Vec<String> = Assets::iter()
        .map(|p| p.into_owned())
        .filter(|p| !hidden(p) && p != "sw.js" && p != "index.html")
        .map(|p| format!("/m/{p}"))
        .collect();
    files.sort();
    files.insert(0, "/m/".to_owned());
    files.push("/console/labels.js".to_owned());
    files
}

/// The service worker with the shell's file list and its version (a hash over every shell
/// file): a new binary with a changed app installs a new worker, which fetches the new shell.
fn service_worker() -> &'static str {
    static SW: OnceLock<String> = OnceLock::new();
    SW.get_or_init(|| {
        let files = shell();
        let mut h = Sha256::new();
        for f in &files {
            let file = match f.as_str() {
                "/m/" => Assets::get("index.html"),
                "/console/labels.js" => console::console_file("labels.js"),
                other => Assets::get(other.trim_start_matches("/m/")),
            };
            h.update(f.as_bytes());
            if let Some(file) = file {
                h.update(file.metadata.sha256_hash());
            }
        }
        let version = hex::encode(&h.finalize()[..8]);
        let list = serde_json::to_string(&files).unwrap_or_else(|_| "[]".into());
        let template = Assets::get("sw.js")
            .map(|f| String::from_utf8_lossy(&f.data).into_owned())
            .unwrap_or_default();
        template
            .replace("\"__VERSION__\"", &format!("\"{version}\""))
            .replace("[\"__SHELL__\"]", &list)
    })
}

/// `GET /m`: to the app's page (its relative links need the slash).
pub async fn bare() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/m/"))
        .finish()
}

/// `GET /m/`: the app's single page.
pub async fn index(req: HttpRequest) -> Result<HttpResponse, AppError> {
    serve(&req, "index.html")
}

/// `GET /m/{path}`: the app's scripts, styles, manifest, icons and vendored libraries.
pub async fn asset(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let path = path.into_inner();
    if path == "sw.js" {
        return Ok(HttpResponse::Ok()
            .content_type("text/javascript; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
            .body(service_worker()));
    }
    serve(&req, &path)
}

fn serve(req: &HttpRequest, path: &str) -> Result<HttpResponse, AppError> {
    let not_found = || AppError::NotFound("没有这个文件 (no such field-app file)".into());
    if hidden(path) {
        return Err(not_found());
    }
    let file = Assets::get(path).ok_or_else(not_found)?;
    let mut resp = console::respond(req, path, file);
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(CSP),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vendored libraries are exactly the pinned builds from the npm registry
    /// (`mobile-sync/app/vendor.sh` wrote `vendor/SHA256SUMS`).
    #[test]
    fn every_vendored_field_app_file_matches_sha256sums() {
        super::super::console::tests::assert_vendored_matches_sums::<Assets>(
            "mobile-sync/app/vendor.sh",
            5,
        );
    }

    /// The service worker keeps every file the page loads, and nothing that is not served.
    #[test]
    fn the_service_worker_keeps_the_whole_shell() {
        let sw = service_worker();
        assert!(
            !sw.contains("__VERSION__") && !sw.contains("__SHELL__"),
            "{sw}"
        );
        let index = Assets::get("index.html").expect("index.html");
        let index = String::from_utf8_lossy(&index.data);
        for part in index.split(['"', '\'']) {
            if part.starts_with("/m/") || part.starts_with("/console/") {
                assert!(
                    sw.contains(&format!("\"{part}\"")),
                    "{part} is not kept offline"
                );
            }
        }
        for f in shell() {
            assert!(!hidden(&f), "{f}");
        }
    }
}
