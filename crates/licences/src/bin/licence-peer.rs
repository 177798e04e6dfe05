//! `licence-peer --file records.json --listen 127.0.0.1:9090`: serves the licence registry's
//! protocol from a document of records, for trying Tongban's `[licence_registry] url` by hand.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// 辐射安全许可证查询接口的本地对端（测试与演示用）
#[derive(Parser)]
#[command(name = "licence-peer", version, about)]
struct Args {
    /// The records: a JSON document `{"licences": [...]}`.
    #[arg(long)]
    file: PathBuf,
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:9090")]
    listen: SocketAddr,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let records = match std::fs::read_to_string(&args.file)
        .map_err(|e| format!("无法读取 {}：{e}", args.file.display()))
        .and_then(|text| tongban_licences::parse_document(&text))
    {
        Ok(records) => records,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let count = records.len();
    let (addr, task) = match tongban_licences::peer::serve(records, args.listen).await {
        Ok(served) => served,
        Err(e) => {
            eprintln!("无法监听 {}：{e}", args.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    println!(
        "辐射安全许可证对端已启动：http://{addr}/api/v1/licences?credit_code=… （{count} 条许可证记录）"
    );
    tokio::select! {
        _ = task => std::process::ExitCode::FAILURE,
        _ = tokio::signal::ctrl_c() => std::process::ExitCode::SUCCESS,
    }
}
