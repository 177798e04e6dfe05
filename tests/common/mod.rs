//! What the tests of the `tongban` binary share: the command, and the line it announces its
//! address in.
#![allow(dead_code)]
use std::path::Path;
use std::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_tongban");

/// A `tongban` command in its own working directory, with no configuration from the environment.
pub fn tongban(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("TONGBAN_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("TONGBAN_LISTEN", "127.0.0.1:0");
    cmd
}

/// The base URL in `tongban serve`'s start-up line (`通办 Tongban 已启动：http://…/ （…）`).
pub fn announced_url(line: &str) -> Option<String> {
    let rest = line.split("已启动：").nth(1)?;
    Some(
        rest.split_whitespace()
            .next()?
            .trim_end_matches('/')
            .to_string(),
    )
}
