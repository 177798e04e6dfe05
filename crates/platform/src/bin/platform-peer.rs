//! `platform-peer --listen 127.0.0.1:9191 [--public-key seal.pub.pem]`: serves the city
//! platform's protocol (办件库 and 电子证照库) locally, for trying Tongban's `[city_platform] url`
//! by hand. What it accepted is listed at `GET /api/v1/{destination}/messages`. It is also the
//! government-blockchain display for `[ledger] display_url`: the snapshots it took, and the one
//! it shows, are at `GET /api/v1/ledger_display/snapshots`.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use tongban_platform::peer::{self, PeerState};

/// 一网通办办件库与电子证照库的本地对端（测试与演示用）
#[derive(Parser)]
#[command(name = "platform-peer", version, about)]
struct Args {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:9191")]
    listen: SocketAddr,
    /// The bureau's public key (PEM, `-----BEGIN PUBLIC KEY-----`): when given, messages without
    /// a valid signature are refused with 401.
    #[arg(long)]
    public_key: Option<PathBuf>,
    /// Answer the first N deliveries with 503, as an unavailable platform would.
    #[arg(long, default_value_t = 0)]
    fail_next: usize,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let public_key = match &args.public_key {
        None => None,
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| format!("无法读取 {}：{e}", path.display()))
            .and_then(|pem| {
                tongban_crypto::Sm2PublicKey::from_pem(&pem)
                    .map_err(|e| format!("{} 不是 SM2 公钥：{e}", path.display()))
            }) {
            Ok(key) => Some(key),
            Err(e) => {
                eprintln!("{e}");
                return std::process::ExitCode::FAILURE;
            }
        },
    };
    let checks = if public_key.is_some() {
        "验证签名"
    } else {
        "不验证签名"
    };
    let state = PeerState::new(public_key);
    state.fail_next(args.fail_next);
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("无法监听 {}：{e}", args.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    let (addr, task) = match peer::serve(state, listener) {
        Ok(served) => served,
        Err(e) => {
            eprintln!("无法监听 {}：{e}", args.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    println!(
        "一网通办平台对端已启动（{checks}）：http://{addr}/api/v1/{{case_library|licence_repository}}/messages"
    );
    println!(
        "政务区块链展示平台对端：http://{addr}{}",
        tongban_platform::display::SNAPSHOTS_PATH
    );
    tokio::select! {
        _ = task => std::process::ExitCode::FAILURE,
        _ = tokio::signal::ctrl_c() => std::process::ExitCode::SUCCESS,
    }
}
