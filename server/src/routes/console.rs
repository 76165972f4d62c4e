//! The dispatch console (指挥调度台): the static files under `server/console/` (the app and its
//! vendored browser libraries), embedded in the binary so that nothing is built or fetched to
//! run it. `GET /` is the app's page; `GET /console/{path}` its assets.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;
use serde_json::json;

use crate::auth::Actor;
use crate::config::Config;
use crate::error::AppError;
use crate::state::AppState;

/// The files of `server/console/`.
#[derive(RustEmbed)]
#[folder = "console/"]
struct Assets;

/// Vendored libraries change only with a re-vendoring (a new binary): browsers may keep them a
/// day without asking. The app's own files are revalidated on each load (cheap: ETag → 304).
const VENDOR_CACHE: &str = "public, max-age=86400";
const APP_CACHE: &str = "no-cache";

/// The app page may run only what the binary serves: no CDN, no outside request (town
/// intranets) — except map tiles from the configured tile server. Vue compiles the screens'
/// templates in the browser, hence `unsafe-eval`; Leaflet and Element Plus position elements
/// with inline styles.
fn csp(config: &Config) -> String {
    let tiles = config
        .map_tile_url
        .as_deref()
        .and_then(tile_origin)
        .map(|o| format!(" {o}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob:{tiles}; media-src 'self' blob:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
}

/// The CSP source of a tile URL template: `scheme://host[:port]`, a `{s}` label as `*`
/// (`http://t{s}.tianditu.gov.cn/…` → `http://*.tianditu.gov.cn`). None when it is not an
/// http(s) URL or the host has other placeholders.
fn tile_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host
        .split('.')
        .map(|label| if label.contains("{s}") { "*" } else { label })
        .collect::<Vec<_>>()
        .join(".");
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '*'));
    valid.then(|| format!("{scheme}://{host}"))
}

/// `GET /`: the console's single page (screens are hash routes, `/#/intake` …).
pub async fn index(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let mut resp = serve(&req, "index.html")?;
    if let Ok(value) = header::HeaderValue::from_str(&csp(&state.config)) {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    Ok(resp)
}

/// What the console needs to know of the server's configuration: the map's tile layer (none:
/// the grid on a plain background).
#[utoipa::path(get, path = "/api/v1/console/settings", tag = "ops", security(("bearer" = [])),
    responses((status = 200, description = "`{map_tiles: {url, subdomains, attribution} | null}`")))]
pub async fn settings(state: web::Data<AppState>, _actor: Actor) -> HttpResponse {
    let c = &state.config;
    let tiles = c.map_tile_url.as_ref().map(|url| {
        json!({"url": url, "subdomains": c.map_tile_subdomains, "attribution": c.map_tile_attribution})
    });
    HttpResponse::Ok().json(json!({ "map_tiles": tiles }))
}

/// `GET /console/{path}`: the console's scripts, styles and the vendored libraries.
pub async fn asset(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    serve(&req, &path.into_inner())
}

fn serve(req: &HttpRequest, path: &str) -> Result<HttpResponse, AppError> {
    let not_found = || AppError::NotFound("没有这个文件 (no such console file)".into());
    // The re-vendoring script lives beside the files but is not part of the app.
    if path.ends_with(".sh") {
        return Err(not_found());
    }
    let file = Assets::get(path).ok_or_else(not_found)?;
    Ok(respond(req, path, file))
}

/// A file of the console (the field app shares its vocabulary, `labels.js`).
pub(crate) fn console_file(path: &str) -> Option<rust_embed::EmbeddedFile> {
    Assets::get(path)
}

/// An embedded file with its ETag (its SHA-256) and caching: 304 when the browser has it; the
/// vendored libraries cached a day, the app's own files revalidated. Shared with the field app.
pub(crate) fn respond(
    req: &HttpRequest,
    path: &str,
    file: rust_embed::EmbeddedFile,
) -> HttpResponse {
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let cache = if path.starts_with("vendor/") {
        VENDOR_CACHE
    } else {
        APP_CACHE
    };
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut resp = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    resp.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if fresh {
        return resp.finish();
    }
    resp.content_type(content_type(path))
        .body(file.data.into_owned())
}

/// The media type of a console or field-app file, by extension (the set they ship).
pub(crate) fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        _ => "text/plain; charset=utf-8",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// The vendored libraries of an embedded app are exactly the pinned builds from the npm
    /// registry (its `vendor.sh`, named by `script`, wrote `vendor/SHA256SUMS`): a file edited by
    /// hand, replaced, added or left out fails here.
    pub(crate) fn assert_vendored_matches_sums<A: RustEmbed>(script: &str, at_least: usize) {
        let sums = A::get("vendor/SHA256SUMS").expect("vendor/SHA256SUMS is embedded");
        let sums = std::str::from_utf8(&sums.data).expect("utf-8");
        let mut listed = Vec::new();
        for line in sums.lines().filter(|l| !l.trim().is_empty()) {
            let (hash, name) = line.split_once("  ").expect("`<sha256>  <path>` lines");
            let file = A::get(&format!("vendor/{name}"))
                .unwrap_or_else(|| panic!("vendor/{name} is listed in SHA256SUMS but missing"));
            assert_eq!(
                hex::encode(Sha256::digest(&file.data)),
                hash,
                "vendor/{name} differs from its pinned build: run `bash {script}`"
            );
            listed.push(format!("vendor/{name}"));
        }
        for path in A::iter().filter(|p| p.starts_with("vendor/")) {
            assert!(
                path == "vendor/SHA256SUMS" || listed.iter().any(|l| *l == path),
                "{path} is vendored but not listed in SHA256SUMS"
            );
        }
        assert!(
            listed.len() >= at_least,
            "SHA256SUMS lists only {}",
            listed.len()
        );
    }

    #[test]
    fn every_vendored_file_matches_sha256sums() {
        assert_vendored_matches_sums::<Assets>("server/console/vendor.sh", 10);
    }

    #[test]
    fn the_tile_server_is_the_only_outside_origin_the_page_may_load_images_from() {
        assert_eq!(
            tile_origin("http://t{s}.tianditu.gov.cn/vec_w/wmts?tk=KEY&TILEMATRIX={z}").as_deref(),
            Some("http://*.tianditu.gov.cn")
        );
        assert_eq!(
            tile_origin("https://tile.openstreetmap.org/{z}/{x}/{y}.png").as_deref(),
            Some("https://tile.openstreetmap.org")
        );
        assert_eq!(
            tile_origin("http://10.1.2.3:8081/tiles/{z}/{x}/{y}.png").as_deref(),
            Some("http://10.1.2.3:8081")
        );
        assert_eq!(tile_origin("javascript:alert(1)"), None);
        assert_eq!(tile_origin("http://{host}/x"), None);
        let none = csp(&Config::default());
        assert!(none.contains("img-src 'self' data: blob:;"), "{none}");
        let with = csp(&Config {
            map_tile_url: Some("https://tile.openstreetmap.org/{z}/{x}/{y}.png".into()),
            ..Config::default()
        });
        assert!(
            with.contains("img-src 'self' data: blob: https://tile.openstreetmap.org;"),
            "{with}"
        );
    }

    #[test]
    fn scripts_styles_and_pages_have_their_media_types() {
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(
            content_type("vendor/leaflet/leaflet.css"),
            "text/css; charset=utf-8"
        );
        assert_eq!(
            content_type("vendor/leaflet/images/marker-icon.png"),
            "image/png"
        );
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
    }
}
