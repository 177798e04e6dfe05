//! Figure 5: SM3 (MB/s), SM2 sign and verify (operations/s, the standard user id, DER
//! signatures) and SM4 (MB/s) in Tongban beside `openssl speed` on the same machine. A round of
//! ours and a round of OpenSSL's alternate (OpenSSL's own figures swing by up to half between
//! runs here, so measuring one side first would skew the ratio); each figure is the median of
//! three rounds; throughput uses 16 KiB buffers as `openssl speed -bytes 16384` does. OpenSSL
//! 3.0 has no SM4-GCM, so SM4 is compared in CTR mode, the keystream GCM is built on.
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use ctr::cipher::{KeyIvInit, StreamCipher};
use tongban_crypto::{Sm2KeyPair, sm3};

use crate::peers::{self, median};
use crate::table::{Goal, Row};

const BLOCK: usize = 16 * 1024;

type Sm4Ctr = ctr::Ctr128BE<tongban_crypto::sm4::Sm4>;

/// Runs `op` repeatedly for `secs` seconds; returns operations per second.
fn rate(secs: f64, mut op: impl FnMut()) -> f64 {
    let round = Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < round {
        for _ in 0..8 {
            op();
        }
        n += 8;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn mb(ops_per_sec: f64) -> f64 {
    ops_per_sec * BLOCK as f64 / 1e6
}

fn openssl(args: &[&str]) -> anyhow::Result<String> {
    peers::output_within(Command::new("openssl").args(args), Duration::from_secs(60))
}

/// `openssl speed` of a digest or cipher over 16 KiB buffers, in MB/s.
fn openssl_throughput(alg: &str, secs: u64) -> anyhow::Result<f64> {
    let out = openssl(&[
        "speed",
        "-seconds",
        &secs.to_string(),
        "-bytes",
        &BLOCK.to_string(),
        "-evp",
        alg,
    ])?;
    let k = out
        .lines()
        .last()
        .and_then(|l| l.split_whitespace().last())
        .map(|k| k.trim_end_matches('k'))
        .and_then(|k| k.parse::<f64>().ok())
        .with_context(|| format!("no figure in openssl speed {alg}: {out}"))?;
    Ok(k * 1000.0 / 1e6)
}

/// `openssl speed sm2`: (sign/s, verify/s).
fn openssl_sm2(secs: u64) -> anyhow::Result<(f64, f64)> {
    let out = openssl(&["speed", "-seconds", &secs.to_string(), "sm2"])?;
    let line = out
        .lines()
        .find(|l| l.contains("SM2"))
        .with_context(|| format!("no SM2 line in openssl speed: {out}"))?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let n = fields.len();
    Ok((fields[n - 2].parse()?, fields[n - 1].parse()?))
}

/// Three rounds alternating ours and theirs; the medians of each.
fn interleaved(
    mut ours: impl FnMut() -> f64,
    mut theirs: impl FnMut() -> anyhow::Result<f64>,
) -> anyhow::Result<(f64, f64)> {
    let (mut a, mut b) = (vec![], vec![]);
    for _ in 0..3 {
        a.push(ours());
        b.push(theirs()?);
    }
    Ok((median(a), median(b)))
}

/// `secs` is the length of one round (1 s to quote; `openssl speed` takes whole seconds).
pub fn run(secs: f64) -> anyhow::Result<Vec<Row>> {
    let whole = secs.ceil().max(1.0) as u64;
    let version = openssl(&["version"])?;
    println!("  beside {}", version.trim());
    let data: Vec<u8> = (0..BLOCK).map(|i| (i * 131 % 251) as u8).collect();
    let sm3_pair = interleaved(
        || {
            mb(rate(secs, || {
                std::hint::black_box(sm3(std::hint::black_box(&data)));
            }))
        },
        || openssl_throughput("sm3", whole),
    )?;

    let key = Sm2KeyPair::generate();
    let public = key.public_key();
    let message = b"tongban login challenge 7f3a9c91310115MA1FL8XQ34";
    let signature = key.sign(message);
    let sign_pair = interleaved(
        || {
            rate(secs, || {
                std::hint::black_box(key.sign(std::hint::black_box(message)));
            })
        },
        || Ok(openssl_sm2(whole)?.0),
    )?;
    let verify_pair = interleaved(
        || {
            rate(secs, || {
                std::hint::black_box(public.verify(message, &signature))
                    .expect("our own signature");
            })
        },
        || Ok(openssl_sm2(whole)?.1),
    )?;

    let (k, iv) = ([7u8; 16], [9u8; 16]);
    let mut buf = data.clone();
    let ctr_pair = interleaved(
        || {
            mb(rate(secs, || {
                let mut c = Sm4Ctr::new(&k.into(), &iv.into());
                c.apply_keystream(std::hint::black_box(&mut buf));
            }))
        },
        || openssl_throughput("sm4-ctr", whole),
    )?;

    let row = |figure: &str, unit: &'static str, (ours, theirs): (f64, f64)| Row {
        figure: figure.into(),
        ours,
        peer: theirs,
        peer_name: "openssl speed".into(),
        unit,
        goal: Goal::AtLeast(1.0),
    };
    Ok(vec![
        row("SM3, 16 KiB buffers", "MB/s", sm3_pair),
        row("SM2 sign", "ops/s", sign_pair),
        row("SM2 verify", "ops/s", verify_pair),
        row("SM4-CTR, 16 KiB buffers", "MB/s", ctr_pair),
    ])
}
