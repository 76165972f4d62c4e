//! A real Open311 GeoReport v2 client against the real binary: the `georeport` client (PyPI)
//! reads services, a definition and requests in JSON and in XML; requests are filed with form
//! POSTs as the spec shows, with a position and with only an address; the caller's contact never
//! comes back; a wrong key gets the spec's error. On SQLite, and on PostgreSQL with
//! `GRIDDISPATCH_TEST_PG`.
//!
//! The client is installed by `tests/interop/install.sh` (CI runs it). Without it this test
//! prints `SKIPPED …` and passes, unless `GRIDDISPATCH_REQUIRE_INTEROP=1` (CI), which fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use griddispatch_e2e::town::Town;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const KEY: &str = "e2e-open311-platform-key";

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("interop")
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

fn client_ready() -> bool {
    let ok = Command::new(python())
        .args(["-c", "import georeport, xmltodict, requests"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("GRIDDISPATCH_REQUIRE_INTEROP").as_deref() != Ok("1"),
            "GRIDDISPATCH_REQUIRE_INTEROP=1 but the georeport client is not installed; run tests/interop/install.sh"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED Open311 client test: georeport is not installed; run tests/interop/install.sh"
        );
    }
    ok
}

#[test]
fn the_georeport_client_reads_and_files_requests_in_json_and_xml() {
    if !client_ready() {
        return;
    }
    let digest = hex::encode(Sha256::digest(KEY.as_bytes()));
    let clients = format!(r#"[{{name="12345", api_key_sha256="{digest}", account="dispatcher"}}]"#);
    let town = Town::start_with(&[("GRIDDISPATCH_OPEN311__CLIENTS", &clients)]);
    let here = town.here();
    let out = Command::new(python())
        .arg(interop_dir().join("open311_georeport.py"))
        .env("GD_OPEN311", format!("{}/open311/v2", town.base()))
        .env("GD_API_KEY", KEY)
        .env("GD_LAT", here.lat.to_string())
        .env("GD_LON", here.lon.to_string())
        .env("GD_SERVICE", "0401")
        .output()
        .expect("run the client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(stdout.trim()).expect("the client's JSON");
    for fmt in ["json", "xml"] {
        assert!(v[format!("services_{fmt}")].as_u64().unwrap() > 5, "{v}");
        assert_eq!(v[format!("definition_{fmt}")], "0401");
        let placed = v[format!("placed_{fmt}")].as_str().unwrap();
        assert_eq!(v[format!("listed_{fmt}")], json!([placed]));
        let one = &v[format!("one_{fmt}")];
        assert_eq!(one["status"], "open");
        assert_eq!(one["service_code"], "0401");
        // JSON keeps numbers, XML gives text.
        let lat = match &one["lat"] {
            Value::String(s) => s.parse::<f64>().unwrap(),
            n => n.as_f64().unwrap(),
        };
        assert!((lat - here.lat).abs() < 1e-6, "{one}");
        // Each round filed two more of the same service.
        let at_least = if fmt == "json" { 2 } else { 4 };
        assert!(v[format!("all_{fmt}")].as_u64().unwrap() >= at_least, "{v}");
        // The report exists with its private contact, as the dispatcher sees it.
        let report = town.report(placed).expect("the filed report");
        assert_eq!(report["report"]["source"], "hotline");
        assert_eq!(report["report"]["contact"]["email"], "li@example.com");
        assert_eq!(report["report"]["contact"]["name"], "李小明");
    }
    assert_eq!(v["refused"]["status"], 403);
    assert_eq!(v["refused"]["body"][0]["code"], 403);
    assert!(v["refused"]["body"][0]["description"]
        .as_str()
        .unwrap()
        .starts_with("invalid_api_key: "));
}
