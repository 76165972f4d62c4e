//! Evidence upload load generator against the real binary (docs/benchmarks.md, "Evidence
//! uploads"). Not a test: it measures and prints, and asserts nothing about speed.
//!
//! ```text
//! cargo build --release -p griddispatch
//! cargo bench -p griddispatch-e2e --bench upload
//! ```
//!
//! Environment: `GD_BENCH_DIR` (directory on the filesystem to measure; default the system
//! temporary directory), `GD_BENCH_REPS` (repetitions of each measurement, default 5),
//! `GD_BENCH_PHOTOS` (photos per batch, default 500), `GD_BENCH_STRACE=1` (only: one video
//! upload with `strace -c -f -w` attached to the server, to see which system calls take the
//! time).
//!
//! `GD_BENCH_ONLY=photos` runs only the photo measurements of issue #16 (see "Photos off the
//! acknowledgement path" in docs/benchmarks.md): 16 phone-sized photos (12 MP, 3–5 MB, with
//! EXIF) at once — each one's acknowledgement, the time until all copies exist, the server's
//! peak RSS and CPU — and 500 × ~200 KB photos 4 and 16 at a time, acknowledged per second and
//! copies made per second. `GD_BENCH_BINARY=<path>` runs another `griddispatch` binary (the
//! previous version, in the same sitting).
//!
//! In one run, on one filesystem: the raw disk write speed (`dd if=/dev/zero bs=5M count=10`,
//! once with `conv=fsync` and once with `oflag=dsync`), a 50 MiB MP4 uploaded in 5 MiB PATCHes, 500 distinct ~200 KB JPEGs one after
//! another and 4 at a time, and the server's peak RSS (`VmHWM`) for 10, 50 and 200 MiB uploads,
//! each on a fresh server process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use griddispatch_e2e::bench::{env_usize, median};
use griddispatch_e2e::media::{jpeg, mp4, sha256_hex};
use griddispatch_e2e::tus::{login, TusClient};
use griddispatch_e2e::Server;

const MIB: usize = 1024 * 1024;
const VIDEO_CHUNK: usize = 5 * MIB;

fn mb_per_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn fmt_all(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x:.1}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A `/proc/<pid>/status` field in kB.
fn proc_status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// User + system CPU seconds of a process so far.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the `(comm)`, which may contain spaces.
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after `(comm)`.
    (ticks(11) + ticks(12)) / 100.0
}

/// How `dd` makes its 50 MiB durable.
#[derive(Clone, Copy)]
enum Sync {
    /// `conv=fsync`: one flush after the last block.
    AtEnd,
    /// `oflag=dsync`: a flush after every 5 MiB block, the points at which a tus server
    /// acknowledges a 5 MiB PATCH.
    PerBlock,
}

/// `dd if=/dev/zero of=DIR/dd.bin bs=5M count=10 conv=fsync` (or `oflag=dsync`): MB/s. Falls
/// back to the same in Rust (ten 5 MiB writes, one fsync or one per write) when `dd` is
/// missing.
fn raw_disk(dir: &Path, sync: Sync) -> f64 {
    let file = dir.join("dd.bin");
    let flag = match sync {
        Sync::AtEnd => "conv=fsync",
        Sync::PerBlock => "oflag=dsync",
    };
    let start = Instant::now();
    let dd = Command::new("dd")
        .args([
            "if=/dev/zero",
            &format!("of={}", file.display()),
            "bs=5M",
            "count=10",
            flag,
        ])
        .output();
    let elapsed = start.elapsed();
    let speed = match dd {
        Ok(out) if out.status.success() => mb_per_s(10 * VIDEO_CHUNK, elapsed),
        _ => {
            let buf = vec![0u8; VIDEO_CHUNK];
            let start = Instant::now();
            let mut f = std::fs::File::create(&file).unwrap();
            for _ in 0..10 {
                f.write_all(&buf).unwrap();
                if let Sync::PerBlock = sync {
                    f.sync_data().unwrap();
                }
            }
            f.sync_all().unwrap();
            mb_per_s(10 * VIDEO_CHUNK, start.elapsed())
        }
    };
    let _ = std::fs::remove_file(file);
    speed
}

fn start_server(dir: &Path, name: &str) -> (Server, TusClient) {
    let data = dir.join(name);
    let args = [
        "demo",
        "--data-dir",
        data.to_str().unwrap(),
        "--bind",
        "127.0.0.1:0",
    ];
    let server = match std::env::var_os("GD_BENCH_BINARY") {
        Some(bin) => Server::start_binary(Path::new(&bin), &args, &[]),
        None => Server::start(&args, &[]),
    };
    let token = login(&server.base, "grid_member", "griddemo2026");
    let tus = TusClient::new(&server.base, &token);
    (server, tus)
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Upload `data` as a video; the total time from the POST to the last 204, and the time of the
/// last PATCH (which also checks and stores the file before it answers). The client's SHA-256
/// of the file (sent in the metadata) is computed before the clock starts, as a phone computes
/// it when the recording ends: it is not part of the upload.
fn timed_video_upload(tus: &TusClient, data: &[u8]) -> (Duration, Duration) {
    let sha256 = sha256_hex(data);
    let data = &Bytes::copy_from_slice(data);
    let start = Instant::now();
    let patches = tus
        .upload_hashed(
            data,
            &sha256,
            &new_id(),
            "bench.mp4",
            "video/mp4",
            VIDEO_CHUNK,
        )
        .unwrap_or_else(|e| panic!("video upload: {e}"));
    (start.elapsed(), *patches.last().unwrap())
}

/// One 50 MiB video upload with `strace -c -f -w` on the server; prints strace's summary.
fn strace_one_video(tus: &TusClient, pid: u32, dir: &Path) {
    let out = dir.join("strace.txt");
    let mut strace = Command::new("strace")
        .args(["-c", "-f", "-w", "-o"])
        .arg(&out)
        .args(["-p", &pid.to_string()])
        .spawn()
        .expect("strace");
    std::thread::sleep(Duration::from_secs(1));
    let data = mp4(10 * VIDEO_CHUNK, 4242);
    let (total, last) = timed_video_upload(tus, &data);
    println!(
        "traced video upload: {:.1} MB/s, last PATCH {} ms",
        mb_per_s(data.len(), total),
        last.as_millis()
    );
    let _ = Command::new("kill")
        .args(["-INT", &strace.id().to_string()])
        .status();
    let _ = strace.wait();
    println!("{}", std::fs::read_to_string(out).unwrap_or_default());
}

fn photo_batch(tus: &TusClient, photos: &[Vec<u8>], threads: usize) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for part in photos.chunks(photos.len().div_ceil(threads)) {
            let tus = tus.clone();
            s.spawn(move || {
                for p in part {
                    tus.upload(p, &new_id(), "photo.jpg", "image/jpeg", MIB)
                        .unwrap_or_else(|e| panic!("photo upload: {e}"));
                }
            });
        }
    });
    start.elapsed()
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("run with `cargo bench -p griddispatch-e2e --bench upload`");
        return;
    }
    let reps = env_usize("GD_BENCH_REPS", 5).max(1);
    let n_photos = env_usize("GD_BENCH_PHOTOS", 500).max(4);
    let root = std::env::var_os("GD_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let dir = tempfile::tempdir_in(&root).unwrap();
    if std::env::var("GD_BENCH_ONLY").as_deref() == Ok("photos") {
        phone_photos(dir.path(), reps, n_photos);
        return;
    }
    println!(
        "evidence upload benchmark: {} (binary {}), {} CPUs, {reps} repetitions",
        dir.path().display(),
        griddispatch_e2e::binary().display(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // --- Raw disk, video and photos, interleaved so that each repetition sees the same disk.
    let (server, tus) = start_server(dir.path(), "main");
    let pid = server.pid();
    if std::env::var("GD_BENCH_STRACE").as_deref() == Ok("1") {
        strace_one_video(&tus, pid, dir.path());
        return;
    }
    let video_len = 10 * VIDEO_CHUNK;
    let (mut disk, mut video, mut video_body, mut video_last) = (vec![], vec![], vec![], vec![]);
    let (mut video_cpu, mut disk_dsync, mut ratio, mut ratio_dsync) =
        (vec![], vec![], vec![], vec![]);
    for rep in 0..reps {
        disk.push(raw_disk(dir.path(), Sync::AtEnd));
        disk_dsync.push(raw_disk(dir.path(), Sync::PerBlock));
        let data = mp4(video_len, 1000 + rep as u64);
        let cpu0 = cpu_secs(pid);
        let (total, last) = timed_video_upload(&tus, &data);
        video_cpu.push(cpu_secs(pid) - cpu0);
        video.push(mb_per_s(video_len, total));
        ratio.push(100.0 * mb_per_s(video_len, total) / disk[rep]);
        ratio_dsync.push(100.0 * mb_per_s(video_len, total) / disk_dsync[rep]);
        video_body.push(mb_per_s(video_len - VIDEO_CHUNK, total - last));
        video_last.push(last.as_secs_f64() * 1000.0);
    }
    let disk_m = median(disk.clone());
    let video_m = median(video.clone());
    println!(
        "\nraw disk, dd bs=5M count=10 conv=fsync (MB/s): median {disk_m:.1} [{}]",
        fmt_all(&disk)
    );
    println!(
        "raw disk, dd bs=5M count=10 oflag=dsync (MB/s): median {:.1} [{}]",
        median(disk_dsync.clone()),
        fmt_all(&disk_dsync)
    );
    println!(
        "video 50 MiB MP4 in 5 MiB PATCHes (MB/s): median {video_m:.1} [{}] = {:.0} % of raw disk",
        fmt_all(&video),
        100.0 * video_m / disk_m
    );
    println!(
        "  video / dd conv=fsync of the same repetition (%): median {:.0} [{}]",
        median(ratio.clone()),
        fmt_all(&ratio)
    );
    println!(
        "  video / dd oflag=dsync of the same repetition (%): median {:.0} [{}]",
        median(ratio_dsync.clone()),
        fmt_all(&ratio_dsync)
    );
    println!(
        "  POST + first 9 PATCHes (receive + write + fsync) MB/s: median {:.1} [{}]",
        median(video_body.clone()),
        fmt_all(&video_body)
    );
    println!(
        "  last PATCH incl. completion (structure check, store original, record) ms: median {:.0} [{}]",
        median(video_last.clone()),
        fmt_all(&video_last)
    );
    println!(
        "  server CPU seconds per video: median {:.2} [{}]",
        median(video_cpu.clone()),
        video_cpu
            .iter()
            .map(|x| format!("{x:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // --- Photos: distinct pictures (content-addressed originals and the reuse check would
    // otherwise short-cut repeats), ~200 KB each, one PATCH each after the POST.
    let photo_reps = reps.min(3);
    for threads in [1usize, 4] {
        let (mut rate, mut mbs, mut cpu) = (vec![], vec![], vec![]);
        let mut sizes = 0usize;
        for rep in 0..photo_reps {
            let seed0 = (threads * 1_000_000 + rep * 10_000) as u64;
            let photos: Vec<Vec<u8>> = (0..n_photos)
                .map(|i| jpeg(800, 600, seed0 + i as u64, 25))
                .collect();
            let bytes: usize = photos.iter().map(Vec::len).sum();
            sizes = bytes / photos.len();
            let cpu0 = cpu_secs(pid);
            let d = photo_batch(&tus, &photos, threads);
            cpu.push(cpu_secs(pid) - cpu0);
            rate.push(photos.len() as f64 / d.as_secs_f64());
            mbs.push(mb_per_s(bytes, d));
        }
        println!(
            "photos, {n_photos} × ~{} KB, {threads} at a time: median {:.1} photos/s [{}], {:.1} MB/s [{}] = {:.0} % of raw disk; server CPU {:.1} s per batch",
            sizes / 1000,
            median(rate.clone()),
            fmt_all(&rate),
            median(mbs.clone()),
            fmt_all(&mbs),
            100.0 * median(mbs.clone()) / disk_m,
            median(cpu)
        );
    }
    drop(server);

    // --- Peak memory by upload size, each on a fresh server process.
    println!("\npeak RSS of the server (VmHWM), one upload per fresh process, 5 MiB PATCHes:");
    for mib in [10usize, 50, 200] {
        let (server, tus) = start_server(dir.path(), &format!("rss{mib}"));
        let before = proc_status_kb(server.pid(), "VmHWM:");
        let data = mp4(mib * MIB, mib as u64);
        let start = Instant::now();
        tus.upload(&data, &new_id(), "rss.mp4", "video/mp4", VIDEO_CHUNK)
            .unwrap_or_else(|e| panic!("{mib} MiB upload: {e}"));
        let took = start.elapsed();
        let after = proc_status_kb(server.pid(), "VmHWM:");
        println!(
            "  {mib:>3} MiB video: VmHWM {:.1} MiB after start, {:.1} MiB after the upload ({:.1} MB/s)",
            before as f64 / 1024.0,
            after as f64 / 1024.0,
            mb_per_s(data.len(), took)
        );
    }
}

/// `value` as an EXIF ASCII field (NUL-terminated).
fn ascii(value: &str) -> Vec<u8> {
    let mut v = value.as_bytes().to_vec();
    v.push(0);
    v
}

/// `jpeg` with an APP1 EXIF block as a phone writes one: make, model, orientation (1), and
/// the capture time in the EXIF sub-IFD.
fn with_exif(jpeg: &[u8], seed: u64) -> Vec<u8> {
    // Little-endian TIFF: header, IFD0 (4 entries), EXIF IFD (1 entry), then the values.
    let make = ascii("Xiaomi");
    let model = ascii("Redmi Note 12");
    let taken = ascii(&format!(
        "2026:11:29 {:02}:{:02}:00",
        8 + seed % 10,
        seed % 60
    ));
    let ifd0_at = 8u32;
    let ifd0_len = 2 + 4 * 12 + 4;
    let exif_at = ifd0_at + ifd0_len;
    let exif_len = 2 + 12 + 4;
    let data_at = exif_at + exif_len;
    let (make_at, model_at) = (data_at, data_at + make.len() as u32);
    let taken_at = model_at + model.len() as u32;
    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&ifd0_at.to_le_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value.to_le_bytes());
    };
    t.extend_from_slice(&4u16.to_le_bytes());
    entry(&mut t, 0x010F, 2, make.len() as u32, make_at);
    entry(&mut t, 0x0110, 2, model.len() as u32, model_at);
    entry(&mut t, 0x0112, 3, 1, 1);
    entry(&mut t, 0x8769, 4, 1, exif_at);
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(&1u16.to_le_bytes());
    entry(&mut t, 0x9003, 2, taken.len() as u32, taken_at);
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(&make);
    t.extend_from_slice(&model);
    t.extend_from_slice(&taken);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&t);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A phone-sized photo: 4000 × 3000 (12 MP) of structure plus sensor-like noise, 3–5 MB at
/// quality 90, with EXIF.
fn phone_photo(seed: u64) -> Vec<u8> {
    with_exif(&jpeg(4000, 3000, seed, 24), seed)
}

/// Photos still waiting for their copies, from `/metrics` (0 for a server without the queue,
/// which made them before it answered).
fn copies_pending(base: &str) -> u64 {
    let text = reqwest::blocking::get(format!("{base}/metrics"))
        .and_then(|r| r.text())
        .unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("griddispatch_photo_copies_pending "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// From `start`, how long until no photo waits for its copies (polled every 20 ms).
fn until_copies_made(base: &str, start: Instant) -> Duration {
    while copies_pending(base) > 0 {
        std::thread::sleep(Duration::from_millis(20));
    }
    start.elapsed()
}

/// Issue #16's photo rows: phone-sized photos 16 at once, and the 200 KB batch.
fn phone_photos(dir: &Path, reps: usize, n_photos: usize) {
    // 16 × 12 MP at once, each repetition on a fresh server process (VmHWM is a peak).
    let photo_reps = reps.min(3);
    let (mut ack_med, mut ack_max, mut last_med, mut all_copies, mut hwm, mut cpu) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut size = 0;
    for rep in 0..photo_reps {
        let photos: Vec<Vec<u8>> = (0..16)
            .map(|i| phone_photo(9_000 + (rep * 100 + i) as u64))
            .collect();
        size = photos.iter().map(Vec::len).sum::<usize>() / photos.len();
        let (server, tus) = start_server(dir, &format!("phone{rep}"));
        let pid = server.pid();
        let cpu0 = cpu_secs(pid);
        let start = Instant::now();
        let timings: Vec<(Duration, Duration)> = std::thread::scope(|s| {
            let handles: Vec<_> = photos
                .iter()
                .map(|p| {
                    let tus = tus.clone();
                    s.spawn(move || {
                        let t0 = Instant::now();
                        let patches = tus
                            .upload(p, &new_id(), "IMG_0001.jpg", "image/jpeg", 5 * MIB)
                            .unwrap_or_else(|e| panic!("phone photo upload: {e}"));
                        (t0.elapsed(), *patches.last().unwrap())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let copies = until_copies_made(&server.base, start);
        cpu.push((cpu_secs(pid) - cpu0) * 1000.0 / 16.0);
        let totals: Vec<f64> = timings.iter().map(|t| t.0.as_secs_f64() * 1000.0).collect();
        ack_max.push(totals.iter().copied().fold(0.0, f64::max));
        ack_med.push(median(totals));
        last_med.push(median(
            timings
                .iter()
                .map(|t| t.1.as_secs_f64() * 1000.0)
                .collect::<Vec<_>>(),
        ));
        all_copies.push(copies.as_secs_f64() * 1000.0);
        hwm.push(proc_status_kb(pid, "VmHWM:") as f64 / 1024.0);
        drop(server);
    }
    println!(
        "16 phone photos (4000×3000 JPEG, ~{:.1} MB, EXIF) at once, fresh server each:",
        size as f64 / 1e6
    );
    println!(
        "  upload POST→last 204 per photo (ms): median of medians {:.0} [{}]; slowest {:.0} [{}]",
        median(ack_med.clone()),
        fmt_all(&ack_med),
        median(ack_max.clone()),
        fmt_all(&ack_max)
    );
    println!(
        "  last PATCH (completion) per photo (ms): median {:.0} [{}]",
        median(last_med.clone()),
        fmt_all(&last_med)
    );
    println!(
        "  all 16 with their copies (ms from the first POST): median {:.0} [{}]",
        median(all_copies.clone()),
        fmt_all(&all_copies)
    );
    println!(
        "  server CPU per photo incl. receiving, hashing and copies (ms): median {:.0} [{}]",
        median(cpu.clone()),
        fmt_all(&cpu)
    );
    println!(
        "  server peak RSS, VmHWM (MiB): median {:.0} [{}]",
        median(hwm.clone()),
        fmt_all(&hwm)
    );

    // 500 × ~200 KB: acknowledged per second, and copies made per second (until the queue is
    // empty, from the first POST).
    let (server, tus) = start_server(dir, "batch");
    for threads in [4usize, 16] {
        let (mut acked, mut copied) = (vec![], vec![]);
        let mut sizes = 0;
        for rep in 0..photo_reps {
            let seed0 = (threads * 1_000_000 + rep * 10_000) as u64;
            let photos: Vec<Vec<u8>> = (0..n_photos)
                .map(|i| jpeg(800, 600, seed0 + i as u64, 25))
                .collect();
            sizes = photos.iter().map(Vec::len).sum::<usize>() / photos.len();
            let start = Instant::now();
            let d = photo_batch(&tus, &photos, threads);
            let all = until_copies_made(&server.base, start);
            acked.push(photos.len() as f64 / d.as_secs_f64());
            copied.push(photos.len() as f64 / all.as_secs_f64());
        }
        println!(
            "photos, {n_photos} × ~{} KB, {threads} at a time: acknowledged median {:.0}/s [{}]; with copies median {:.0}/s [{}]",
            sizes / 1000,
            median(acked.clone()),
            fmt_all(&acked),
            median(copied.clone()),
            fmt_all(&copied)
        );
    }
}
