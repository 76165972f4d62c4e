//! An HTTP/1.1-aware TCP proxy on 127.0.0.1 for the sync tests: it reads each request's head
//! and `Content-Length` body, so it can break a chosen request the way a phone's network does:
//!
//! - [`Fault::DropResponse`]: the request reaches the server whole, the server answers (so it
//!   has committed), and the answer is thrown away and the connection closed — the client
//!   never learns what happened;
//! - [`Fault::CutRequest`]: the request head and the first `n` body bytes reach the server,
//!   then both sides of the connection are shut — a cut mid-push or mid-upload.
//!
//! It can also be switched [offline](FaultProxy::set_offline) (connections are refused by
//! closing them at once) and pointed at another upstream (a restarted server on a new port).
//! Clients must not pipeline requests (reqwest does not).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What to do to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Let it through, wait for the server's answer, throw the answer away, close.
    DropResponse,
    /// Forward the head and this many body bytes, then shut the connection both ways.
    CutRequest(usize),
    /// [`Fault::CutRequest`], and the proxy goes [offline](FaultProxy::set_offline) at the same
    /// moment — the signal lost mid-request — so that nothing after the cut gets through however
    /// fast the client retries (a test switching offline itself may be too late).
    CutRequestThenOffline(usize),
}

#[derive(Debug)]
struct Rule {
    method: String,
    path_prefix: String,
    /// Matching requests to let through before the fault.
    skip: usize,
    fault: Fault,
}

#[derive(Default)]
struct Shared {
    upstream: Mutex<Option<SocketAddr>>,
    rules: Mutex<Vec<Rule>>,
    /// `METHOD /path` of every request seen, in order.
    seen: Mutex<Vec<String>>,
    /// Faults that fired, as `METHOD /path`.
    fired: Mutex<Vec<String>>,
    offline: AtomicBool,
    stop: AtomicBool,
}

/// A running proxy; stops accepting when dropped.
pub struct FaultProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Proxy to `upstream`.
    pub fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Shared::default());
        *shared.upstream.lock().unwrap() = Some(upstream);
        let s = shared.clone();
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = conn else { continue };
                if s.offline.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let s = s.clone();
                thread::spawn(move || relay(client, &s));
            }
        });
        FaultProxy { addr, shared }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Break the `skip + 1`-th request (counted from now) whose method is `method` and whose
    /// path starts with `path_prefix`.
    pub fn fail(&self, method: &str, path_prefix: &str, skip: usize, fault: Fault) {
        self.shared.rules.lock().unwrap().push(Rule {
            method: method.to_owned(),
            path_prefix: path_prefix.to_owned(),
            skip,
            fault,
        });
    }

    /// Faults that fired so far (`METHOD /path`).
    pub fn fired(&self) -> Vec<String> {
        self.shared.fired.lock().unwrap().clone()
    }

    /// Requests seen so far (`METHOD /path`).
    pub fn seen(&self) -> Vec<String> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Go offline: refuse connections, and close kept-alive ones at their next request.
    pub fn set_offline(&self, offline: bool) {
        self.shared.offline.store(offline, Ordering::SeqCst);
    }

    /// Send new connections to another server (e.g. restarted on a new port).
    pub fn set_upstream(&self, upstream: SocketAddr) {
        *self.shared.upstream.lock().unwrap() = Some(upstream);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// Which fault, if any, applies to this request (and consume the rule when it fires).
fn take_fault(s: &Shared, method: &str, path: &str) -> Option<Fault> {
    let mut rules = s.rules.lock().unwrap();
    let i = rules
        .iter()
        .position(|r| r.method.eq_ignore_ascii_case(method) && path.starts_with(&r.path_prefix))?;
    if rules[i].skip > 0 {
        rules[i].skip -= 1;
        return None;
    }
    let rule = rules.remove(i);
    if let Fault::CutRequestThenOffline(_) = rule.fault {
        s.offline.store(true, Ordering::SeqCst);
    }
    s.fired.lock().unwrap().push(format!("{method} {path}"));
    Some(rule.fault)
}

fn relay(client: TcpStream, s: &Shared) {
    let Some(upstream) = *s.upstream.lock().unwrap() else {
        return;
    };
    let Ok(server) = TcpStream::connect(upstream) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (Ok(client_w), Ok(server_r)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    // Server → client, except that a response to be dropped is swallowed and ends it all.
    let drop_next = Arc::new(AtomicBool::new(false));
    let dropper = drop_next.clone();
    let (client_kill, server_kill) = (
        client.try_clone().expect("clone"),
        server.try_clone().expect("clone"),
    );
    let back = thread::spawn(move || {
        let (mut from, mut to) = (server_r, client_w);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if dropper.load(Ordering::SeqCst) {
                // The server has answered: it committed. The client hears nothing.
                let _ = client_kill.shutdown(Shutdown::Both);
                let _ = server_kill.shutdown(Shutdown::Both);
                return;
            }
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });

    let mut reader = BufReader::new(client);
    let mut to = server;
    loop {
        // Request head.
        let mut head = Vec::new();
        loop {
            let mut line = Vec::new();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => {
                    let _ = to.shutdown(Shutdown::Write);
                    let _ = back.join();
                    return;
                }
                Ok(_) => {}
            }
            let end = line == b"\r\n" || line == b"\n";
            head.extend_from_slice(&line);
            if end {
                break;
            }
        }
        let text = String::from_utf8_lossy(&head).to_string();
        let mut first = text.lines().next().unwrap_or_default().split_whitespace();
        let method = first.next().unwrap_or_default().to_owned();
        let path = first.next().unwrap_or_default().to_owned();
        let length: usize = text
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(0);
        if s.offline.load(Ordering::SeqCst) {
            // A kept-alive connection dies too when the network goes.
            let _ = to.shutdown(Shutdown::Both);
            let _ = reader.get_ref().shutdown(Shutdown::Both);
            let _ = back.join();
            return;
        }
        s.seen.lock().unwrap().push(format!("{method} {path}"));
        let fault = take_fault(s, &method, &path);
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            let _ = to.shutdown(Shutdown::Both);
            let _ = back.join();
            return;
        }
        match fault {
            Some(Fault::CutRequest(n) | Fault::CutRequestThenOffline(n)) => {
                let _ = to.write_all(&head);
                let _ = to.write_all(&body[..n.min(body.len())]);
                let _ = to.flush();
                // Let the bytes arrive before the connection dies.
                thread::sleep(Duration::from_millis(100));
                let _ = to.shutdown(Shutdown::Both);
                let _ = reader.get_ref().shutdown(Shutdown::Both);
                let _ = back.join();
                return;
            }
            Some(Fault::DropResponse) => {
                drop_next.store(true, Ordering::SeqCst);
                let _ = to.write_all(&head);
                let _ = to.write_all(&body);
                let _ = back.join();
                let _ = reader.get_ref().shutdown(Shutdown::Both);
                return;
            }
            None => {
                if to.write_all(&head).is_err() || to.write_all(&body).is_err() {
                    let _ = back.join();
                    return;
                }
            }
        }
    }
}
