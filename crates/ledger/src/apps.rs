//! Access applications (SDK接入应用, 003 modules 89-90): each province's system is registered by
//! an administrator and issued an app id and a secret, with grants per contract: the
//! operations it may submit, whether it may read, and which entries (its data scope). Every
//! call is signed with HMAC-SM3 over the method, the path, a timestamp, a nonce and the SM3 of
//! the body, so a call cannot be altered, replayed or held back and sent later.
use serde::{Deserialize, Serialize};
use tongban_crypto::{hmac_sm3, sm3, verify_hmac_sm3};

/// The provinces of the 固废链, by code.
pub const PROVINCES: [(&str, &str); 4] = [
    ("shanghai", "上海市"),
    ("jiangsu", "江苏省"),
    ("zhejiang", "浙江省"),
    ("anhui", "安徽省"),
];

/// How far a call's timestamp may be from the server's clock, either way.
pub const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

pub const HEADER_APP: &str = "x-tongban-app";
pub const HEADER_TIMESTAMP: &str = "x-tongban-timestamp";
pub const HEADER_NONCE: &str = "x-tongban-nonce";
pub const HEADER_SIGNATURE: &str = "x-tongban-signature";

/// Which entries of a contract a grant lets the application read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every entry.
    All,
    /// The entries it submitted itself.
    Own,
    /// Its own, and those whose payload names its province among `parties`.
    #[default]
    Party,
}

/// What an application may do with one contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub contract: String,
    /// Operations it may submit (`create`, `update`, `status`).
    #[serde(default)]
    pub operations: Vec<String>,
    #[serde(default)]
    pub read: bool,
    #[serde(default)]
    pub scope: Scope,
}

/// A registered application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: String,
    pub name: String,
    /// One of [`PROVINCES`].
    pub province: String,
    pub secret: String,
    pub grants: Vec<Grant>,
    pub revoked: bool,
}

impl App {
    pub fn may_submit(&self, contract: &str, operation: &str) -> bool {
        self.grants
            .iter()
            .any(|g| g.contract == contract && g.operations.iter().any(|o| o == operation))
    }

    /// Whether the application may see an entry of `contract` submitted by `submitter` with
    /// `payload`.
    pub fn may_read(&self, contract: &str, submitter: &str, payload: &str) -> bool {
        self.grants
            .iter()
            .filter(|g| g.contract == contract && g.read)
            .any(|g| match g.scope {
                Scope::All => true,
                Scope::Own => submitter == self.id,
                Scope::Party => submitter == self.id || names_party(payload, &self.province),
            })
    }

    pub fn reads(&self, contract: &str) -> bool {
        self.grants.iter().any(|g| g.contract == contract && g.read)
    }
}

/// Whether the payload's `parties` (an array of province codes) includes `province`.
fn names_party(payload: &str, province: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| {
            v.get("parties")?
                .as_array()
                .map(|a| a.iter().any(|p| p.as_str() == Some(province)))
        })
        .unwrap_or(false)
}

/// The text an application signs for a call: method, path (with its query), timestamp
/// (milliseconds), nonce and the SM3 of the body (hex), one to a line.
pub fn canonical(method: &str, path: &str, timestamp: i64, nonce: &str, body: &[u8]) -> String {
    format!(
        "{}\n{path}\n{timestamp}\n{nonce}\n{}",
        method.to_ascii_uppercase(),
        sm3(body).to_hex()
    )
}

/// The signature of a call (lower-case hex), as the SDK computes it.
pub fn sign(
    secret: &str,
    method: &str,
    path: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> String {
    hex::encode(hmac_sm3(
        secret.as_bytes(),
        canonical(method, path, timestamp, nonce, body).as_bytes(),
    ))
}

/// Why a call was not authenticated (HTTP 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("缺少请求头 {0}")]
    MissingHeader(&'static str),
    #[error("未登记的应用“{0}”")]
    UnknownApp(String),
    #[error("应用“{0}”已停用")]
    Revoked(String),
    #[error("请求时间戳与服务器时间相差超过5分钟，请校准时钟后重新签名")]
    StaleTimestamp,
    #[error("nonce 应为16到64位字母或数字")]
    BadNonce,
    #[error("签名无效：请检查密钥和签名内容（方法、路径、时间戳、nonce、请求体SM3）")]
    BadSignature,
    #[error("重复的请求：该 nonce 已使用过")]
    Replayed,
}

/// A call as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub timestamp: i64,
    pub nonce: &'a str,
    pub body: &'a [u8],
    pub signature: &'a str,
}

/// Checks a call's timestamp, nonce form and signature against `app` at `now` (ms). Whether
/// the nonce was used before is the store's to say.
pub fn check(app: &App, call: &Call<'_>, now: i64) -> Result<(), AuthError> {
    if app.revoked {
        return Err(AuthError::Revoked(app.id.clone()));
    }
    if (call.timestamp - now).abs() > CLOCK_SKEW_MS {
        return Err(AuthError::StaleTimestamp);
    }
    if !(16..=64).contains(&call.nonce.len())
        || !call.nonce.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(AuthError::BadNonce);
    }
    let tag = hex::decode(call.signature).map_err(|_| AuthError::BadSignature)?;
    let text = canonical(
        call.method,
        call.path,
        call.timestamp,
        call.nonce,
        call.body,
    );
    if !verify_hmac_sm3(app.secret.as_bytes(), text.as_bytes(), &tag) {
        return Err(AuthError::BadSignature);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signature of a GET with an empty body, as `openssl dgst -sm3 -hmac` computes it
    /// over the same canonical text: what an integrator's implementation must reproduce.
    #[test]
    fn a_call_is_signed_as_openssl_computes_hmac_sm3() {
        let text = canonical(
            "get",
            "/ledger/v1/keys/filing/BA-1",
            1_764_547_200_000,
            "0123456789abcdef0123",
            b"",
        );
        assert_eq!(
            text,
            "GET\n/ledger/v1/keys/filing/BA-1\n1764547200000\n0123456789abcdef0123\n\
             1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"
        );
        let signature = sign(
            "tongban-test-secret",
            "GET",
            "/ledger/v1/keys/filing/BA-1",
            1_764_547_200_000,
            "0123456789abcdef0123",
            b"",
        );
        assert_eq!(
            signature,
            "eeae635eea5df689f9bf3784a958c2922ae6f9703c79063a04030b59468bb864"
        );
        let app = App {
            id: "app-1".into(),
            name: "测试".into(),
            province: "jiangsu".into(),
            secret: "tongban-test-secret".into(),
            grants: vec![],
            revoked: false,
        };
        let call = Call {
            method: "GET",
            path: "/ledger/v1/keys/filing/BA-1",
            timestamp: 1_764_547_200_000,
            nonce: "0123456789abcdef0123",
            body: b"",
            signature: &signature,
        };
        assert_eq!(check(&app, &call, 1_764_547_260_000), Ok(()));
        let other_path = Call {
            path: "/ledger/v1/keys/filing/BA-2",
            ..call
        };
        assert_eq!(
            check(&app, &other_path, 1_764_547_260_000),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            check(&app, &call, 1_764_547_200_000 + CLOCK_SKEW_MS + 1),
            Err(AuthError::StaleTimestamp)
        );
        let short = Call {
            nonce: "abc",
            ..call
        };
        assert_eq!(
            check(&app, &short, 1_764_547_260_000),
            Err(AuthError::BadNonce)
        );
    }
}
