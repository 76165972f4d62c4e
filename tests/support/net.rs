//! A TCP proxy on 127.0.0.1 that forwards bytes both ways and, once, cuts the connection that
//! carries the `cut_after`-th byte sent by clients — a phone losing its network mid-upload — or
//! stalls it: nothing more flows, but the server's side stays open (a half-open connection, what
//! a phone switching networks leaves behind).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

/// A running proxy; stops accepting when dropped (open connections end with their peers).
pub struct CutProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

struct Shared {
    upstream: SocketAddr,
    /// Client→server bytes forwarded so far, over all connections.
    sent: AtomicU64,
    cut_after: u64,
    /// Stall instead of cutting.
    stall: bool,
    cut: AtomicBool,
    stop: AtomicBool,
}

impl CutProxy {
    /// Proxy to `upstream`; the connection over which the client→server byte count reaches
    /// `cut_after` gets exactly that many bytes through and is then shut down both ways, on
    /// the client's and the server's side. Later connections pass untouched.
    pub fn start(upstream: SocketAddr, cut_after: u64) -> CutProxy {
        Self::spawn(upstream, cut_after, false)
    }

    /// Like [`CutProxy::start`], but the connection is not shut down: the bytes after the
    /// `stall_after`-th are swallowed and the server's socket is held open, silent, until the
    /// proxy is dropped.
    pub fn stall(upstream: SocketAddr, stall_after: u64) -> CutProxy {
        Self::spawn(upstream, stall_after, true)
    }

    fn spawn(upstream: SocketAddr, cut_after: u64, stall: bool) -> CutProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Shared {
            upstream,
            sent: AtomicU64::new(0),
            cut_after,
            stall,
            cut: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = conn else { continue };
                let s = s.clone();
                thread::spawn(move || relay(client, &s));
            }
        });
        CutProxy { addr, shared }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Whether the connection was cut (or stalled).
    pub fn cut_happened(&self) -> bool {
        self.shared.cut.load(Ordering::SeqCst)
    }

    /// Client→server bytes forwarded so far.
    pub fn bytes_sent(&self) -> u64 {
        self.shared.sent.load(Ordering::SeqCst)
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn relay(client: TcpStream, s: &Shared) {
    let Ok(server) = TcpStream::connect(s.upstream) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (Ok(client_r), Ok(server_w)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    // Server → client: a plain copy.
    let (server_r, client_w) = (server, client);
    let back = thread::spawn(move || pump(server_r, client_w));
    // Client → server: counted, and cut once.
    let mut from = client_r;
    let mut to = server_w;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n as u64,
        };
        let before = s.sent.fetch_add(n, Ordering::SeqCst);
        let cut_here = before < s.cut_after
            && before + n >= s.cut_after
            && !s.cut.swap(true, Ordering::SeqCst);
        let pass = if cut_here { s.cut_after - before } else { n };
        let pass = usize::try_from(pass).unwrap_or(usize::MAX);
        if to.write_all(&buf[..pass]).is_err() {
            break;
        }
        if cut_here && s.stall {
            // Keep the server's socket open and say nothing more; drain the client so that it
            // is not told anything either.
            while !s.stop.load(Ordering::SeqCst) {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => thread::sleep(std::time::Duration::from_millis(100)),
                    Ok(_) => {}
                }
            }
            let _ = to.shutdown(Shutdown::Both);
            return;
        }
        if cut_here {
            let _ = to.flush();
            // Both directions of both sockets: the server sees its request body end early and
            // the client sees its connection die before any answer.
            let _ = to.shutdown(Shutdown::Both);
            let _ = from.shutdown(Shutdown::Both);
            let _ = back.join();
            return;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = back.join();
}

fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
