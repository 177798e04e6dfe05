//! What the browser tests share: the router served on a loopback port, Debian's headless
//! Chromium driven through `chromedriver` (installed by `.ci/run`), a session handed over from an
//! in-process login, and small waits. Included with `#[path = "common/browser.rs"] mod browser;`
//! by the tests that drive a browser, so the others do not link fantoccini.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

/// chromedriver on a free port; `None` (skipped) when it is not installed outside CI.
pub async fn chromedriver() -> Option<(tokio::process::Child, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = match tokio::process::Command::new("chromedriver")
        .arg(format!("--port={port}"))
        // Chromium on Linux takes its own words (the file chooser's 选择文件) from the locale.
        // (LANGUAGE only: a LANG naming a locale the system lacks breaks non-ASCII file paths.)
        .env("LANGUAGE", "zh_CN")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("chromedriver is required in CI: {e}");
            }
            eprintln!(
                "SKIPPED browser test: chromedriver not found ({e}); apt install chromium chromium-driver"
            );
            return None;
        }
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Some((child, port))
}

/// A headless Chromium session with a `width`×`height` window.
pub async fn chromium(port: u16, width: u32, height: u32) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync",
                     "--hide-scrollbars", "--lang=zh-CN",
                     format!("--window-size={width},{height}")]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session")
}

/// Sizes the window so that the page itself (the viewport, what a screenshot shows) is
/// `width`×`height`: `--window-size` counts the window's frame too.
pub async fn viewport(c: &Client, width: u32, height: u32) {
    let frame = c
        .execute(
            "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];",
            vec![],
        )
        .await
        .unwrap();
    let frame: Vec<u32> = serde_json::from_value(frame).unwrap();
    c.set_window_size(width + frame[0], height + frame[1])
        .await
        .unwrap();
}

/// Serves `app` on a free loopback port; returns its base URL.
pub async fn serve(app: &axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = app
        .clone()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, served).await });
    base
}

/// Hands the browser a session opened in-process (logging in by certificate is tested
/// elsewhere). WebDriver's add-cookie refuses an IP-address host; the page may set it instead.
pub async fn take_session(c: &Client, base: &str, session: &str) {
    c.goto(&format!("{base}/")).await.unwrap();
    c.execute(
        "document.cookie = 'tongban_session=' + arguments[0] + '; path=/'",
        vec![serde_json::Value::String(session.to_string())],
    )
    .await
    .unwrap();
}

pub async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
}

pub async fn displayed(c: &Client, css: &str) -> bool {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap()
}

/// Waits (up to 10 s) until the element `css` says `needle`: after a click the old page may still
/// be there, or its elements go stale while the next one loads.
pub async fn wait_text(c: &Client, css: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(el) = c.find(Locator::Css(css)).await
            && let Ok(text) = el.text().await
            && text.contains(needle)
        {
            return text;
        }
        assert!(Instant::now() < deadline, "{css} never said {needle}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Where a test's screenshots go: `docs/img/<page>/` (the user page of the service shows them)
/// only with `TONGBAN_DOC_SCREENSHOTS=1`, else the test's temporary directory, so CI never
/// rewrites the repository.
pub fn screenshot_dir(temp: &std::path::Path, page: &str) -> std::path::PathBuf {
    if std::env::var("TONGBAN_DOC_SCREENSHOTS").is_ok_and(|v| v == "1") {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs/img")
            .join(page)
    } else {
        temp.join("screenshots")
    }
}

/// Writes the page's screenshot (the window, as a person sees it) to `dir/name`.
pub async fn screenshot_to(c: &Client, dir: &std::path::Path, name: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), c.screenshot().await.unwrap()).unwrap();
}

/// The text of `css`, trimmed.
pub async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap()
        .trim()
        .to_string()
}

/// Clicks `css` and waits until the page it leads to has replaced this one.
pub async fn go(c: &Client, css: &str) {
    let old = c.find(Locator::Css("html")).await.unwrap();
    click(c, css).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while old.tag_name().await.is_ok() {
        assert!(Instant::now() < deadline, "{css} led nowhere");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    c.wait().for_element(Locator::Css("footer")).await.unwrap();
}

/// Types `value` into the text box of field `id`, replacing what was prefilled.
pub async fn fill(c: &Client, id: &str, value: &str) {
    let el = c
        .find(Locator::Css(&format!("[name='f.{id}']")))
        .await
        .unwrap_or_else(|e| panic!("no field {id}: {e}"));
    el.clear().await.unwrap();
    el.send_keys(value)
        .await
        .unwrap_or_else(|e| panic!("cannot type into {id}: {e}"));
}

/// Ticks option `value` of radio or checkbox field `id` (a ticked checkbox stays ticked).
pub async fn choose(c: &Client, id: &str, value: &str) {
    let el = c
        .find(Locator::Css(&format!(
            "input[name='f.{id}'][value='{value}']"
        )))
        .await
        .unwrap_or_else(|e| panic!("no option {value} of {id}: {e}"));
    if !el.is_selected().await.unwrap() {
        el.click()
            .await
            .unwrap_or_else(|e| panic!("cannot tick {value} of {id}: {e}"));
    }
}

/// Sets a date field as its picker would (typing into a date input depends on the locale).
pub async fn date(c: &Client, id: &str, value: &str) {
    c.execute(
        "const el = document.querySelector(arguments[0]); el.value = arguments[1]; \
         el.dispatchEvent(new Event('change', { bubbles: true }));",
        vec![format!("input[name='f.{id}']").into(), value.into()],
    )
    .await
    .unwrap();
}

pub async fn value_of(c: &Client, id: &str) -> String {
    c.find(Locator::Css(&format!("[name='f.{id}']")))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

pub async fn scroll_to(c: &Client, css: &str) {
    c.execute(
        "document.querySelector(arguments[0]).scrollIntoView({ block: 'start' }); \
         window.scrollBy(0, -12);",
        vec![css.into()],
    )
    .await
    .unwrap();
}

/// 暂存, and the page says so.
pub async fn save(c: &Client) {
    go(c, "button[value=save]").await;
    wait_text(c, ".ok", "已暂存").await;
}

/// 下一步 (or 上一步) to the page titled `title`.
pub async fn step_to(c: &Client, button: &str, title: &str) {
    go(c, &format!("button[value={button}]")).await;
    if c.find(Locator::Css(".alert")).await.is_ok() {
        let alert = c.find(Locator::Css(".alert")).await.unwrap();
        panic!("{button} refused: {}", alert.text().await.unwrap());
    }
    wait_text(c, ".steps .current", title).await;
}
