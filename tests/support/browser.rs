//! A real browser for the console's journeys: Debian's Chromium driven through chromedriver
//! over the W3C WebDriver protocol.
//!
//! The client is these few blocking JSON calls over `reqwest` (already a dependency) rather than
//! `fantoccini`: fantoccini 0.22 pulls `webdriver` 0.53 and with it `icu_segmenter` 1.5 and its
//! dictionary data, hyper 1 client and server stacks, `cookie` and `time` — a long build on a
//! small CI machine for the dozen endpoints the journeys use.
//!
//! Waits poll what the user would see (an element, a text) until a timeout; nothing sleeps to
//! synchronise.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long a journey waits for what the user expects to see.
pub const WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(100);
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The console's window (a laptop); the field app's journeys use [`PHONE_WINDOW`].
pub const DESKTOP_WINDOW: (u32, u32) = (1366, 768);
/// A phone held upright (CSS pixels of a common 6.1" phone).
pub const PHONE_WINDOW: (u32, u32) = (390, 844);

/// Headless Chromium, fresh profile, nothing phoning home.
const CHROMIUM_ARGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=zh-CN",
];

/// chromedriver and a Chromium session; both end when dropped.
pub struct Browser {
    driver: Child,
    http: reqwest::blocking::Client,
    session: String,
    base: String,
    _profile: tempfile::TempDir,
}

/// An element found on the page.
#[derive(Clone)]
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
    /// How it was found (selector, text), so that a click on an element the page re-drew in
    /// the meantime (a live update) finds it again, as a user's next click would.
    found_by: Option<(String, String)>,
}

fn executable(candidates: &[&str]) -> Option<PathBuf> {
    for c in candidates {
        let p = Path::new(c);
        if p.is_absolute() {
            if p.exists() {
                return Some(p.to_path_buf());
            }
            continue;
        }
        if let Some(paths) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&paths) {
                let full = dir.join(c);
                if full.exists() {
                    return Some(full);
                }
            }
        }
    }
    None
}

/// Written to the process's stderr directly: the test harness captures `eprintln!`, and a
/// skipped journey must be visible in the CI log.
fn skip_notice(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{text}");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// A browser for `journey`, or `None` (with a printed notice) when browser tests do not run
    /// here: on the PostgreSQL pass (`GRIDDISPATCH_TEST_PG`), and when Chromium or chromedriver
    /// is missing — unless `GRIDDISPATCH_REQUIRE_BROWSER=1`, which makes a missing browser fail.
    pub fn start_or_skip(journey: &str) -> Option<Browser> {
        Self::start_sized_or_skip(journey, DESKTOP_WINDOW)
    }

    /// As [`Browser::start_or_skip`], with a window of `(width, height)` CSS pixels (a phone:
    /// [`PHONE_WINDOW`]).
    pub fn start_sized_or_skip(journey: &str, window: (u32, u32)) -> Option<Browser> {
        if std::env::var_os("GRIDDISPATCH_TEST_PG").is_some() {
            skip_notice(&format!(
                "SKIPPED {journey}: browser tests run on the SQLite pass only"
            ));
            return None;
        }
        // CHROMEDRIVER / CHROMIUM name the programs explicitly (missing there = missing).
        let pick = |var: &str, candidates: &[&str]| match std::env::var_os(var) {
            Some(p) => Some(PathBuf::from(p)).filter(|p| p.exists()),
            None => executable(candidates),
        };
        let driver = pick("CHROMEDRIVER", &["/usr/bin/chromedriver", "chromedriver"]);
        let chromium = pick(
            "CHROMIUM",
            &["/usr/bin/chromium", "chromium", "chromium-browser"],
        );
        let required = std::env::var("GRIDDISPATCH_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        match (driver, chromium) {
            (Some(d), Some(c)) => Some(Browser::start(&d, &c, window)),
            _ if required => panic!(
                "{journey}: GRIDDISPATCH_REQUIRE_BROWSER=1 but chromium or chromedriver is missing \
                 (apt-get install chromium chromium-driver)"
            ),
            _ => {
                skip_notice(&format!(
                    "SKIPPED {journey}: no chromium/chromedriver found \
                     (apt-get install chromium chromium-driver; set GRIDDISPATCH_REQUIRE_BROWSER=1 to fail instead)"
                ));
                None
            }
        }
    }

    fn start(driver: &Path, chromium: &Path, window: (u32, u32)) -> Browser {
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("HTTP client");
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            let ready = http
                .get(format!("{base}/status"))
                .send()
                .ok()
                .and_then(|r| r.json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(
                started.elapsed() < WAIT,
                "chromedriver did not become ready on {base}"
            );
            std::thread::sleep(POLL);
        }
        let profile = tempfile::tempdir().expect("browser profile dir");
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| (*a).to_owned()).collect();
        args.push(format!("--window-size={},{}", window.0, window.1));
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium.to_string_lossy(), "args": args}
        }}});
        let mut browser = Browser {
            driver: child,
            http,
            session: String::new(),
            base,
            _profile: profile,
        };
        let v = browser.call(reqwest::Method::POST, "/session", Some(caps));
        browser.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
            .to_owned();
        browser
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"))
    }

    fn try_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().map_err(|e| e.to_string())?;
        let ok = resp.status().is_success();
        let v: Value = resp.json().map_err(|e| e.to_string())?;
        if ok {
            Ok(v["value"].clone())
        } else {
            Err(format!("{}", v["value"]))
        }
    }

    /// Open `url`.
    pub fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})));
    }

    /// Run `script` in the page and return its value.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Run a Chrome DevTools Protocol command through chromedriver (network conditions,
    /// geolocation, permissions).
    pub fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({"cmd": cmd, "params": params})),
        )
    }

    /// Run the asynchronous `script` in the page (it calls `arguments[arguments.length - 1]`
    /// with its result) and return that result.
    pub fn execute_async(&self, script: &str, args: Vec<Value>) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Wait until `script` (run in the page) returns `true`; `what` names it for the failure.
    pub fn wait_until_script(&self, what: &str, script: &str) {
        self.wait_until(what, || {
            self.try_call(
                reqwest::Method::POST,
                "/execute/sync",
                Some(json!({"script": script, "args": []})),
            )
            .ok()
            .and_then(|v| v.as_bool())
            .filter(|ok| *ok)
        });
    }

    /// Reload the page (an app restart).
    pub fn refresh(&self) {
        self.call(reqwest::Method::POST, "/refresh", Some(json!({})));
    }

    /// The text of the whole page as the user sees it.
    pub fn page_text(&self) -> String {
        self.execute("return document.body.innerText;", vec![])
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    fn find_now(&self, using: &str, value: &str) -> Vec<Element<'_>> {
        self.try_call(
            reqwest::Method::POST,
            "/elements",
            Some(json!({"using": using, "value": value})),
        )
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| e[ELEMENT_KEY].as_str().map(str::to_owned))
        .map(|id| Element {
            browser: self,
            id,
            found_by: None,
        })
        .collect()
    }

    fn wait_until<T>(&self, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
        let started = Instant::now();
        loop {
            if let Some(v) = probe() {
                return v;
            }
            if started.elapsed() > WAIT {
                let text = self.page_text();
                panic!("waited {WAIT:?} for {what}; the page shows:\n{text}");
            }
            std::thread::sleep(POLL);
        }
    }

    /// Wait for a visible element matching the CSS `selector`.
    pub fn wait_for(&self, selector: &str) -> Element<'_> {
        self.wait_for_text(selector, "")
    }

    /// Wait for a visible element matching `selector` whose text contains `text`.
    pub fn wait_for_text(&self, selector: &str, text: &str) -> Element<'_> {
        let what = if text.is_empty() {
            format!("`{selector}`")
        } else {
            format!("`{selector}` showing {text:?}")
        };
        let mut found = self.wait_until(&what, || {
            self.find_now("css selector", selector)
                .into_iter()
                .find(|e| e.is_displayed() && e.text().contains(text))
        });
        found.found_by = Some((selector.to_owned(), text.to_owned()));
        found
    }

    /// Wait for an element matching `selector`, shown or not (a file input behind its label, an
    /// option of a closed list).
    pub fn wait_for_present(&self, selector: &str) -> Element<'_> {
        self.wait_until(&format!("`{selector}` in the page"), || {
            self.find_now("css selector", selector).into_iter().next()
        })
    }

    /// Wait until the page shows `text` somewhere.
    pub fn wait_for_page_text(&self, text: &str) {
        self.wait_until(&format!("the text {text:?}"), || {
            self.page_text().contains(text).then_some(())
        });
    }

    /// Wait until no visible element matching `selector` contains `text`.
    pub fn wait_gone(&self, selector: &str, text: &str) {
        self.wait_until(&format!("`{selector}` no longer showing {text:?}"), || {
            (!self
                .find_now("css selector", selector)
                .iter()
                .any(|e| e.is_displayed() && e.text().contains(text)))
            .then_some(())
        });
    }

    /// Every visible element matching `selector` now.
    pub fn all(&self, selector: &str) -> Vec<Element<'_>> {
        self.find_now("css selector", selector)
            .into_iter()
            .filter(Element::is_displayed)
            .collect()
    }

    /// Click the visible button whose text contains `label`, once there is one.
    pub fn click_button(&self, label: &str) {
        self.wait_for_text("button", label).click();
    }

    /// Sign in through the sign-in form and wait for the shell with the user's name.
    pub fn sign_in(&self, base: &str, username: &str, password: &str) {
        self.goto(&format!("{base}/"));
        self.wait_for("#login-username input, input#login-username")
            .send_keys(username);
        self.wait_for("#login-password input, input#login-password")
            .send_keys(password);
        self.wait_for("#login-submit").click();
        self.wait_for("#current-user");
    }

    /// Wait until no Vue transition is running (dialogs fading in or out).
    pub fn wait_transitions_done(&self) {
        self.wait_until("transitions to end", || {
            self.execute(
                "return document.querySelector('[class*=\"-enter-active\"],[class*=\"-leave-active\"]') === null;",
                vec![],
            )
            .as_bool()
            .filter(|done| *done)
        });
    }

    /// Sign out from the header and wait for the sign-in form.
    pub fn sign_out(&self) {
        self.wait_for("#logout").click();
        self.wait_for("#login-submit");
    }

    /// A PNG of the window (for a failing journey's evidence).
    pub fn screenshot(&self, path: &Path) {
        if let Some(b64) = self
            .call(reqwest::Method::GET, "/screenshot", None)
            .as_str()
        {
            use base64::Engine;
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64) {
                let _ = std::fs::write(path, bytes);
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self
                .http
                .delete(format!("{}/session/{}", self.base, self.session))
                .send();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Element<'_> {
    fn path(&self, tail: &str) -> String {
        format!("/element/{}{tail}", self.id)
    }

    /// Click it; if the page re-drew it since it was found, click the one showing the same.
    pub fn click(&self) {
        let Err(e) =
            self.browser
                .try_call(reqwest::Method::POST, &self.path("/click"), Some(json!({})))
        else {
            return;
        };
        match &self.found_by {
            Some((selector, text)) if e.contains("stale element") => {
                self.browser.wait_for_text(selector, text).click();
            }
            _ => panic!("WebDriver click: {e}"),
        }
    }

    /// Type `text` into it.
    pub fn send_keys(&self, text: &str) {
        self.browser.call(
            reqwest::Method::POST,
            &self.path("/value"),
            Some(json!({"text": text})),
        );
    }

    /// Replace an input's text as a user does: select all (Ctrl+A), type over it. (WebDriver's
    /// clear bypasses the page's input events, and Vue's `v-model` puts the old value back.)
    pub fn replace_text(&self, text: &str) {
        self.send_keys(&format!("\u{E009}a\u{E009}{text}"));
    }

    /// Its visible text (empty when it went away).
    pub fn text(&self) -> String {
        self.browser
            .try_call(reqwest::Method::GET, &self.path("/text"), None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Whether the user can see it.
    pub fn is_displayed(&self) -> bool {
        self.browser
            .try_call(reqwest::Method::GET, &self.path("/displayed"), None)
            .is_ok_and(|v| v == true)
    }

    /// An attribute or property (`disabled`, `class` …).
    pub fn attribute(&self, name: &str) -> Option<String> {
        self.browser
            .try_call(
                reqwest::Method::GET,
                &self.path(&format!("/attribute/{name}")),
                None,
            )
            .ok()
            .and_then(|v| match v {
                Value::String(s) => Some(s),
                Value::Bool(b) => Some(b.to_string()),
                Value::Null => None,
                other => Some(other.to_string()),
            })
    }

    /// Elements inside it matching `selector`.
    pub fn find_all(&self, selector: &str) -> Vec<Element<'_>> {
        self.browser
            .try_call(
                reqwest::Method::POST,
                &self.path("/elements"),
                Some(json!({"using": "css selector", "value": selector})),
            )
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| e[ELEMENT_KEY].as_str().map(str::to_owned))
            .map(|id| Element {
                browser: self.browser,
                id,
                found_by: None,
            })
            .collect()
    }
}
