//! The documentation keeps up with the code: every error code the server can answer is
//! listed in docs/ (api.md's table, or the page it sends readers to).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

/// The calls and fields whose first string literal is an error code.
const MARKERS: [&str; 7] = [
    "rule(",
    "bad_request(",
    "unauthorized(",
    "forbidden(",
    "conflict(",
    "unprocessable(",
    "code:",
];

fn codes_in(text: &str, out: &mut BTreeSet<String>) {
    for marker in MARKERS {
        for (at, _) in text.match_indices(marker) {
            let rest = text[at + marker.len()..].trim_start();
            let Some(lit) = rest.strip_prefix('"') else {
                continue;
            };
            let Some(end) = lit.find('"') else { continue };
            let code = &lit[..end];
            let snake = !code.is_empty()
                && code.starts_with(|c: char| c.is_ascii_lowercase())
                && code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if snake {
                out.insert(code.to_owned());
            }
        }
    }
}

fn walk(dir: &Path, f: &mut impl FnMut(&Path)) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, f);
        } else {
            f(&path);
        }
    }
}

#[test]
fn every_error_code_the_server_answers_is_documented() {
    let server = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut codes = BTreeSet::new();
    walk(&server.join("src"), &mut |p| {
        let name = p.file_name().unwrap().to_string_lossy();
        // Test modules hold codes they expect, not codes they answer.
        if p.extension().is_some_and(|e| e == "rs") && !name.starts_with("tests") {
            codes_in(&std::fs::read_to_string(p).unwrap(), &mut codes);
        }
    });
    assert!(codes.len() > 50, "the scan found too little: {codes:?}");
    let mut docs = String::new();
    walk(&server.join("../docs"), &mut |p| {
        if p.extension().is_some_and(|e| e == "md") {
            docs.push_str(&std::fs::read_to_string(p).unwrap());
        }
    });
    let missing: Vec<&String> = codes
        .iter()
        .filter(|c| !docs.contains(&format!("`{c}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "error codes documented nowhere in docs/: {missing:?}"
    );
}
