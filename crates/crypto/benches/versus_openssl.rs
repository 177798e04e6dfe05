//! SM3, SM2 and SM4 throughput beside `openssl speed` on the same machine, in the same run.
//!
//! `cargo bench -p tongban-crypto --bench versus_openssl`
//!
//! Rounds of ours and of OpenSSL's alternate; each figure is the median of three rounds of about
//! one second; throughput uses 16 KiB buffers, as `openssl speed -bytes 16384` does. OpenSSL 3.0
//! has no SM4-GCM, so SM4 is compared in CTR mode (the keystream GCM is built on); our field
//! cipher's own SM4-GCM figure is printed too.
use std::process::Command;
use std::time::{Duration, Instant};

use ctr::cipher::{KeyIvInit, StreamCipher};
use tongban_crypto::{FieldCipher, Sm2KeyPair, sm3};

const ROUND: Duration = Duration::from_secs(1);
const BLOCK: usize = 16 * 1024;

/// Runs `op` repeatedly for about a second; returns operations per second.
fn rate(mut op: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < ROUND {
        for _ in 0..8 {
            op();
        }
        n += 8;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn median(mut v: [f64; 3]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[1]
}

fn median3(mut f: impl FnMut() -> f64) -> f64 {
    median([f(), f(), f()])
}

fn mb(ops_per_sec: f64) -> f64 {
    ops_per_sec * BLOCK as f64 / 1e6
}

/// `openssl speed` figures: MB/s for a digest or cipher, or (sign/s, verify/s) for SM2.
fn openssl_throughput(alg: &str) -> Option<f64> {
    let out = Command::new("openssl")
        .args([
            "speed",
            "-seconds",
            "1",
            "-bytes",
            &BLOCK.to_string(),
            "-evp",
            alg,
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last()?;
    let k = line.split_whitespace().last()?.trim_end_matches('k');
    Some(k.parse::<f64>().ok()? * 1000.0 / 1e6)
}

fn openssl_sm2() -> Option<(f64, f64)> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", "1", "sm2"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.contains("SM2"))?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let n = fields.len();
    Some((fields[n - 2].parse().ok()?, fields[n - 1].parse().ok()?))
}

fn row(name: &str, unit: &str, ours: f64, theirs: Option<f64>) {
    match theirs {
        Some(t) => println!(
            "{name:<22} {ours:>12.1} {theirs:>12.1} {unit:<7} {ratio:>6.2}×",
            theirs = t,
            ratio = ours / t
        ),
        None => println!("{name:<22} {ours:>12.1} {:>12} {unit:<7} {:>7}", "—", "—"),
    }
}

/// Three rounds alternating ours and theirs, so both see the same machine; medians of each.
fn interleaved(
    mut ours: impl FnMut() -> f64,
    mut theirs: impl FnMut() -> Option<f64>,
) -> (f64, Option<f64>) {
    let (mut a, mut b) = ([0.0; 3], [0.0; 3]);
    let mut complete = true;
    for i in 0..3 {
        a[i] = ours();
        match theirs() {
            Some(t) => b[i] = t,
            None => complete = false,
        }
    }
    (median(a), complete.then(|| median(b)))
}

fn main() {
    let data: Vec<u8> = (0..BLOCK).map(|i| (i * 131 % 251) as u8).collect();

    let sm3_pair = interleaved(
        || {
            mb(rate(|| {
                std::hint::black_box(sm3(std::hint::black_box(&data)));
            }))
        },
        || openssl_throughput("sm3"),
    );

    let key = Sm2KeyPair::generate();
    let public = key.public_key();
    let message = b"tongban login challenge 7f3a9c91310115MA1FL8XQ34";
    let signature = key.sign(message);
    let sign_pair = interleaved(
        || {
            rate(|| {
                std::hint::black_box(key.sign(std::hint::black_box(message)));
            })
        },
        || openssl_sm2().map(|(sign, _)| sign),
    );
    let verify_pair = interleaved(
        || rate(|| public.verify(message, &signature).unwrap()),
        || openssl_sm2().map(|(_, verify)| verify),
    );

    type Sm4Ctr = ctr::Ctr128BE<sm4::Sm4>;
    let k = [7u8; 16];
    let iv = [9u8; 16];
    let mut buf = data.clone();
    let ctr_pair = interleaved(
        || {
            mb(rate(|| {
                let mut c = Sm4Ctr::new(&k.into(), &iv.into());
                c.apply_keystream(std::hint::black_box(&mut buf));
            }))
        },
        || openssl_throughput("sm4-ctr"),
    );

    let keys = [(
        "k1".to_string(),
        "0123456789abcdeffedcba9876543210".to_string(),
    )]
    .into();
    let field = FieldCipher::new(&keys, "k1", "000102030405060708090a0b0c0d0e0f").unwrap();
    let text = String::from_utf8_lossy(&data).into_owned();
    let gcm_ours = median3(|| {
        mb(rate(|| {
            std::hint::black_box(field.seal("bench", std::hint::black_box(&text)));
        }))
    });

    let version = Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|_| "openssl not found".into());
    println!(
        "Tongban crypto beside {version} (rounds interleaved, median of 3 of ~1 s; 16 KiB buffers)"
    );
    println!(
        "{:<22} {:>12} {:>12} {:<7} {:>7}",
        "figure", "Tongban", "OpenSSL", "unit", "ratio"
    );
    row("SM3", "MB/s", sm3_pair.0, sm3_pair.1);
    row("SM2 sign", "ops/s", sign_pair.0, sign_pair.1);
    row("SM2 verify", "ops/s", verify_pair.0, verify_pair.1);
    row("SM4-CTR", "MB/s", ctr_pair.0, ctr_pair.1);
    row("SM4-GCM (field cipher)", "MB/s", gcm_ours, None);
}
