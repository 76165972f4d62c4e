//! The phone engine asks for compressed answers (a fresh phone's first pull is megabytes of
//! JSON as sent, a tenth of that compressed — docs/benchmarks.md) and reads them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use griddispatch_sync::{Engine, Error};

#[test]
fn the_engine_asks_for_gzip_and_zstd_and_reads_a_compressed_answer() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            headers.push(line.trim().to_ascii_lowercase());
        }
        // A refusal in the server's error shape, gzip-compressed as the server sends it.
        let body =
            r#"{"error":{"code":"invalid_credentials","message":"密码错误 (wrong password)"}}"#
                .as_bytes();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(body).unwrap();
        let gz = gz.finish().unwrap();
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            gz.len()
        )
        .unwrap();
        stream.write_all(&gz).unwrap();
        headers
    });
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).unwrap();
    let err = engine.login(&url, "gm_201", "wrong").unwrap_err();
    let headers = server.join().unwrap();
    let asked = headers
        .iter()
        .find(|h| h.starts_with("accept-encoding:"))
        .cloned()
        .unwrap_or_default();
    assert!(
        asked.contains("gzip") && asked.contains("zstd"),
        "the engine asks for compression: {headers:?}"
    );
    match err {
        Error::Server { code, message, .. } => {
            assert_eq!(code, "invalid_credentials");
            assert!(message.contains("wrong password"), "{message}");
        }
        other => panic!("the compressed refusal is read: {other:?}"),
    }
}
