//! A real browser for the screen tests (issue 13 item 5): Debian's Chromium, headless, driven
//! through its chromedriver over WebDriver ([`fantoccini`]). Each [`Browser`] has its own
//! chromedriver, its own empty profile and, when asked, a fake camera playing a Y4M file.
//!
//! Needs the Debian packages `chromium` and `chromium-driver` (`.ci/run` installs them);
//! `EPERMIT_CHROMIUM` / `EPERMIT_CHROMEDRIVER` name other binaries. Without them a test fails
//! saying so: a browser test that silently skips would prove nothing.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// How long the helpers wait for the page ([`Browser::click`], [`Browser::type_into`]).
pub const WAIT: Duration = Duration::from_secs(15);

/// How the browser starts.
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    /// Window width in CSS pixels.
    pub width: u32,
    /// Window height in CSS pixels.
    pub height: u32,
    /// A Y4M video the fake camera plays (`--use-file-for-fake-video-capture`); the page's
    /// camera permission is granted without a prompt.
    pub fake_camera: Option<PathBuf>,
}

impl BrowserOptions {
    /// A phone: 360 × 780.
    pub fn phone() -> BrowserOptions {
        BrowserOptions {
            width: 360,
            height: 780,
            fake_camera: None,
        }
    }

    /// A desktop: 1280 × 800.
    pub fn desktop() -> BrowserOptions {
        BrowserOptions {
            width: 1280,
            height: 800,
            fake_camera: None,
        }
    }
}

/// A headless Chromium and the WebDriver session that drives it.
pub struct Browser {
    /// The WebDriver client (navigate, find, send keys, execute scripts, screenshots).
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn binary(variable: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.exists(),
        "{} is not installed: the browser tests need Debian's chromium and chromium-driver \
         (`apt-get install -y chromium chromium-driver zbar-tools`; .ci/run installs them) or \
         {variable} naming the binary",
        path.display()
    );
    path
}

/// Chromium's options. Headless Chromium keeps windows at least 500 px wide, so a narrower
/// (phone) viewport is emulated, as DevTools' device mode does: else a "360 px" page is 500.
fn chrome_options(
    chromium: &Path,
    args: Vec<String>,
    options: &BrowserOptions,
) -> serde_json::Value {
    let mut chrome = json!({ "binary": chromium, "args": args });
    if options.width < 500 {
        chrome["mobileEmulation"] = json!({
            "deviceMetrics": {
                "width": options.width,
                "height": options.height,
                "pixelRatio": 1,
                "mobile": true,
                "touch": true
            }
        });
    }
    chrome
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with `options`.
    pub async fn start(options: BrowserOptions) -> Browser {
        let chromium = binary("EPERMIT_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = binary("EPERMIT_CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = free_port();
        let mut command = Command::new(&chromedriver);
        command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, so dropping the browser ends chromedriver and Chromium together.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command.spawn().expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("a profile directory");
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--hide-scrollbars".to_owned(),
            "--force-device-scale-factor=1".to_owned(),
            format!("--window-size={},{}", options.width, options.height),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        if let Some(video) = &options.fake_camera {
            args.push("--use-fake-device-for-media-stream".to_owned());
            args.push("--use-fake-ui-for-media-stream".to_owned());
            args.push(format!(
                "--use-file-for-fake-video-capture={}",
                video.display()
            ));
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            chrome_options(&chromium, args, &options),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("no WebDriver session from {}: {e}", chromedriver.display()),
            }
        };
        let browser = Browser {
            client,
            driver,
            _profile: profile,
        };
        browser
            .client
            .set_window_size(options.width, options.height)
            .await
            .expect("window size");
        browser
    }

    /// Opens `url` (absolute) and waits for the document to load.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("navigation");
    }

    /// The first element matching `css`, waiting up to `timeout` for it to appear.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Element {
        self.client
            .wait()
            .at_most(timeout)
            .every(Duration::from_millis(50))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no `{css}` within {timeout:?}: {e}"))
    }

    /// Waits until `script` (a JavaScript expression) is truthy, up to `timeout`; its last value.
    pub async fn wait_until(&self, script: &str, timeout: Duration) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self
                .client
                .execute(&format!("return ({script});"), vec![])
                .await
                .expect("script runs");
            let truthy = !matches!(
                value,
                serde_json::Value::Null | serde_json::Value::Bool(false)
            ) && value != json!(0)
                && value != json!("");
            if truthy {
                return value;
            }
            if Instant::now() >= deadline {
                let page = self
                    .client
                    .execute(
                        "return (document.querySelector('main') || document.body)?.innerText;",
                        vec![],
                    )
                    .await
                    .unwrap_or_default();
                panic!("`{script}` still false after {timeout:?}; the page says: {page}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Types `text` into the field `css`, cleared first, once it is shown (a hidden field is not
    /// interactable: waiting for it to show is what a person does).
    /// Checks that the field holds `text` afterwards, typing again (up to [`WAIT`]) when a busy
    /// page lost the keys.
    pub async fn type_into(&self, css: &str, text: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            self.until_shown(css).await;
            let field = self.wait_for(css, WAIT).await;
            field.clear().await.expect("clearing a field");
            field.send_keys(text).await.expect("typing into a field");
            let value = self
                .client
                .execute(
                    "return document.querySelector(arguments[0])?.value;",
                    vec![json!(css)],
                )
                .await
                .expect("reading a field");
            if value == json!(text) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "`{css}` holds {value} after typing {text:?}"
            );
        }
    }

    /// Clicks `css` as a thumb would: once it is shown, scrolled to the middle of the screen
    /// (clear of sticky bars); found again when the page re-rendered it meanwhile.
    pub async fn click(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            self.until_shown(css).await;
            self.client
                .execute(
                    "document.querySelector(arguments[0])?.scrollIntoView({block: 'center'});",
                    vec![json!(css)],
                )
                .await
                .expect("scrolling");
            match self.wait_for(css, WAIT).await.click().await {
                Ok(()) => return,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("clicking `{css}`: {e}"),
            }
        }
    }

    /// The rendered text of `css` (waiting for it to exist).
    pub async fn text_of(&self, css: &str) -> String {
        self.wait_for(css, WAIT)
            .await
            .text()
            .await
            .expect("an element's text")
    }

    /// Waits until `css` is laid out (an `<option>`: its `<select>`) and not disabled.
    async fn until_shown(&self, css: &str) {
        let script = format!(
            "(() => {{ const el = document.querySelector({}); \
             const box = el && (el.closest('select') || el); \
             return !!el && box.getClientRects().length > 0 && !el.disabled; }})()",
            json!(css)
        );
        self.wait_until(&script, WAIT).await;
    }

    /// The page as a PNG, at the window's size.
    pub async fn screenshot_png(&self) -> Vec<u8> {
        self.client.screenshot().await.expect("screenshot")
    }

    /// Writes the screenshot to `docs/screens/<name>.png` when `EPERMIT_SCREENSHOTS=1` (so that
    /// ordinary runs leave the tree clean); returns the PNG either way.
    pub async fn save_screenshot(&self, name: &str) -> Vec<u8> {
        let png = self.screenshot_png().await;
        if std::env::var("EPERMIT_SCREENSHOTS").as_deref() == Ok("1") {
            let dir = screens_dir();
            std::fs::create_dir_all(&dir).expect("docs/screens");
            std::fs::write(dir.join(format!("{name}.png")), &png).expect("screenshot written");
        }
        png
    }

    /// Resizes the window (CSS pixels), e.g. to take the same screen at phone and desktop width.
    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("window size");
    }

    /// Ends the session, Chromium and chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.kill();
    }

    fn kill(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if matches!(self.driver.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}

/// `docs/screens/` of the repository: where the committed screenshots live.
pub fn screens_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screens")
}

/// Decodes the QR codes in the PNG `png` with `zbarimg` (Debian's zbar-tools): their texts.
pub fn zbar_decode(png: &[u8]) -> Vec<String> {
    let file = tempfile::Builder::new()
        .suffix(".png")
        .tempfile()
        .expect("a temporary file");
    std::fs::write(file.path(), png).expect("png written");
    let out = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
        .arg(file.path())
        .output()
        .expect("zbarimg is not installed: apt-get install -y zbar-tools");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}
