//! The city platform's local peer for tests: `peers/city-login` (panva/oidc-provider under
//! Node.js, its packages installed by `.ci/run`), started with the given accounts.
use std::process::Stdio;

use tokio::io::AsyncBufReadExt;

pub struct CityPeer {
    pub issuer: String,
    _child: tokio::process::Child,
}

impl CityPeer {
    /// Starts the peer for a client `tongban` with `secret` and `redirect_uri`. `accounts` maps
    /// a login to `{"password": …, "claims": {…}}`. `None` (the test is skipped) when Node.js or
    /// the peer's packages are missing outside CI; in CI that is a failure.
    pub async fn start(
        redirect_uri: &str,
        secret: &str,
        accounts: &serde_json::Value,
    ) -> Option<CityPeer> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../peers/city-login");
        let missing = |why: String| {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("the city-login peer is required in CI: {why}");
            }
            eprintln!("SKIPPED city-login test: {why}; run `npm ci` in peers/city-login");
            None
        };
        if !dir.join("node_modules/oidc-provider").is_dir() {
            return missing("peers/city-login/node_modules is not installed".into());
        }
        let mut child = match tokio::process::Command::new("node")
            .arg("peer.mjs")
            .current_dir(&dir)
            .env("PEER_REDIRECT_URI", redirect_uri)
            .env("PEER_CLIENT_SECRET", secret)
            .env("PEER_ACCOUNTS", accounts.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
        {
            Ok(child) => child,
            Err(e) => return missing(format!("node not found ({e})")),
        };
        let mut line = String::new();
        let mut stdout = tokio::io::BufReader::new(child.stdout.take().expect("piped"));
        stdout
            .read_line(&mut line)
            .await
            .expect("the peer prints its issuer");
        // Keep draining: the provider prints notices, and a closed pipe would kill it.
        tokio::spawn(async move { tokio::io::copy(&mut stdout, &mut tokio::io::sink()).await });
        let started: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("the peer said {line:?}: {e}"));
        Some(CityPeer {
            issuer: started["issuer"].as_str().expect("issuer").to_string(),
            _child: child,
        })
    }
}
