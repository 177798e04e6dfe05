//! The audit log's integrity rule. Every entry carries the SM3 digest of its own content and of
//! the previous entry's digest, so editing, inserting or deleting a row breaks the chain at that
//! row; the head (last sequence number and digest) is kept apart, so cutting off the newest
//! entries is caught too.
use tongban_crypto::Sm3Hasher;

use crate::Timestamp;

/// The digest before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, as recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditAction {
    Login,
    LoginFailed,
    /// A login refused because the account is locked.
    LoginLocked,
    /// An account locked after repeated failures.
    AccountLocked,
    Logout,
    PermissionChange,
    CaseAction,
    DocumentIssued,
    /// An account registered.
    Registered,
    /// A one-time SMS code confirmed (a signing action).
    CodeConfirmed,
    /// An account at another platform (the city's unified login) linked to one of ours.
    AccountLinked,
    /// Records taken out of Tongban in bulk: a query exported to xlsx, reports zipped.
    DataExported,
    /// The 固废链's hash check (哈希核验) found entries or checkpoints changed in storage.
    LedgerTampered,
}

impl AuditAction {
    pub fn code(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::LoginFailed => "login_failed",
            Self::LoginLocked => "login_locked",
            Self::AccountLocked => "account_locked",
            Self::Logout => "logout",
            Self::PermissionChange => "permission_change",
            Self::CaseAction => "case_action",
            Self::DocumentIssued => "document_issued",
            Self::Registered => "registered",
            Self::CodeConfirmed => "code_confirmed",
            Self::AccountLinked => "account_linked",
            Self::DataExported => "data_exported",
            Self::LedgerTampered => "ledger_tampered",
        }
    }

    pub fn label(code: &str) -> &'static str {
        match code {
            "login" => "登录",
            "login_failed" => "登录失败",
            "login_locked" => "锁定期间尝试登录",
            "account_locked" => "账号锁定",
            "logout" => "退出",
            "permission_change" => "权限变更",
            "case_action" => "办件操作",
            "document_issued" => "文书签发",
            "registered" => "注册",
            "code_confirmed" => "短信验证码确认",
            "account_linked" => "绑定统一身份认证账号",
            "data_exported" => "数据导出",
            "ledger_tampered" => "固废链哈希核验不符",
            _ => "其他",
        }
    }
}

/// An entry to append: who did what to which object, with details as JSON.
#[derive(Clone, Debug)]
pub struct NewAuditEntry {
    /// e.g. `officer:<id>`, `enterprise:<credit code>`, `anonymous`, `system`.
    pub actor: String,
    pub action: AuditAction,
    /// e.g. `officer:<id>`, `case:<id>`; empty when none.
    pub object: String,
    pub detail: serde_json::Value,
}

/// A stored entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub detail: String,
    pub prev_digest: String,
    pub digest: String,
}

/// The digest of an entry: SM3 over every field, each length-prefixed so that no two different
/// entries encode alike, and over the previous digest.
pub fn entry_digest(
    seq: i64,
    at: Timestamp,
    actor: &str,
    action: &str,
    object: &str,
    detail: &str,
    prev_digest: &str,
) -> String {
    let mut h = Sm3Hasher::new();
    h.update(b"tongban-audit-v1");
    h.update(&seq.to_be_bytes());
    h.update(&at.millis().to_be_bytes());
    for field in [actor, action, object, detail, prev_digest] {
        h.update(&(field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    h.finish().to_hex()
}

/// Where the chain is broken, naming the row.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuditBreak {
    #[error("第{seq}条审计记录的内容被修改（摘要不符）")]
    Edited { seq: i64 },
    #[error("第{seq}条审计记录与前一条不衔接（前序记录被删除、插入或修改）")]
    Unlinked { seq: i64 },
    #[error("审计记录序号不连续：应为第{expected}条，实为第{found}条（其间记录被删除）")]
    Gap { expected: i64, found: i64 },
    #[error("审计日志末尾缺失：应有{head}条，只找到{last}条")]
    TailMissing { last: i64, head: i64 },
    #[error("审计日志头部摘要与最后一条记录不符")]
    HeadMismatch,
}

/// Checks records as they come, in sequence order, then the head.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev: GENESIS.to_string(),
        }
    }
}

impl ChainVerifier {
    pub fn check(&mut self, r: &AuditRecord) -> Result<(), AuditBreak> {
        if r.seq != self.expected_seq {
            return Err(AuditBreak::Gap {
                expected: self.expected_seq,
                found: r.seq,
            });
        }
        let recomputed = entry_digest(
            r.seq,
            r.at,
            &r.actor,
            &r.action,
            &r.object,
            &r.detail,
            &r.prev_digest,
        );
        if recomputed != r.digest {
            return Err(AuditBreak::Edited { seq: r.seq });
        }
        if r.prev_digest != self.prev {
            return Err(AuditBreak::Unlinked { seq: r.seq });
        }
        self.prev = r.digest.clone();
        self.expected_seq += 1;
        Ok(())
    }

    /// Compares the end of the chain with the head; returns how many entries were checked.
    pub fn finish(self, head_seq: i64, head_digest: &str) -> Result<i64, AuditBreak> {
        let last = self.expected_seq - 1;
        if last != head_seq {
            return Err(AuditBreak::TailMissing {
                last,
                head: head_seq,
            });
        }
        if self.prev != head_digest {
            return Err(AuditBreak::HeadMismatch);
        }
        Ok(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let at = Timestamp(1_795_392_000_000 + seq);
                let detail = format!("{{\"n\":{seq}}}");
                let digest = entry_digest(seq, at, "officer:1", "login", "", &detail, &prev);
                let r = AuditRecord {
                    seq,
                    at,
                    actor: "officer:1".into(),
                    action: "login".into(),
                    object: String::new(),
                    detail,
                    prev_digest: prev.clone(),
                    digest: digest.clone(),
                };
                prev = digest;
                r
            })
            .collect()
    }

    fn verify(records: &[AuditRecord], head: (i64, &str)) -> Result<i64, AuditBreak> {
        let mut v = ChainVerifier::default();
        for r in records {
            v.check(r)?;
        }
        v.finish(head.0, head.1)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, (5, &c[4].digest)), Ok(5));
        assert_eq!(verify(&[], (0, GENESIS)), Ok(0));
    }

    #[test]
    fn an_edit_names_the_row() {
        let mut c = chain(5);
        c[2].detail = "{\"n\":99}".into();
        let head = c[4].digest.clone();
        assert_eq!(verify(&c, (5, &head)), Err(AuditBreak::Edited { seq: 3 }));
    }

    #[test]
    fn a_recomputed_edit_breaks_the_next_link() {
        let mut c = chain(5);
        c[2].detail = "{\"n\":99}".into();
        c[2].digest = entry_digest(
            3,
            c[2].at,
            &c[2].actor,
            &c[2].action,
            &c[2].object,
            &c[2].detail,
            &c[2].prev_digest,
        );
        let head = c[4].digest.clone();
        assert_eq!(verify(&c, (5, &head)), Err(AuditBreak::Unlinked { seq: 4 }));
    }

    #[test]
    fn deletions_are_caught_in_the_middle_and_at_the_end() {
        let c = chain(5);
        let head = c[4].digest.clone();
        let mut middle = c.clone();
        middle.remove(1);
        assert_eq!(
            verify(&middle, (5, &head)),
            Err(AuditBreak::Gap {
                expected: 2,
                found: 3
            })
        );
        assert_eq!(
            verify(&c[..4], (5, &head)),
            Err(AuditBreak::TailMissing { last: 4, head: 5 })
        );
    }

    #[test]
    fn field_boundaries_matter() {
        let a = entry_digest(1, Timestamp(0), "ab", "c", "", "", GENESIS);
        let b = entry_digest(1, Timestamp(0), "a", "bc", "", "", GENESIS);
        assert_ne!(a, b);
    }
}
