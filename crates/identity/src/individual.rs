//! Individuals (个人): registration with identity number and mobile phone, login with either plus
//! a password (locked after repeated failures), and one-time SMS codes that confirm signing
//! actions. Both numbers are stored sealed; lookups use their blind indexes.
use std::time::Duration;

use rand::Rng;
use serde_json::json;
use tongban_crypto::FieldCipher;
use tongban_domain::Timestamp;
use tongban_domain::audit::AuditAction;
use tongban_domain::id_number::{IdNumber, is_mobile};
use tongban_store::individuals::{self, IndividualRow};
use tongban_store::{Store, StoreError, audit};

use crate::audit::entry;
use crate::officer_login::{LOCK_AFTER_FAILURES, LOCK_DURATION};
use crate::{password, session, sms};

pub const CODE_LIFETIME: Duration = Duration::from_secs(300);
pub const MAX_CODE_ATTEMPTS: i32 = 5;
/// Codes one person may be sent in an hour.
pub const MAX_CODES_PER_HOUR: i64 = 5;

const ID_FIELD: &str = "individual.id_number";
const PHONE_FIELD: &str = "individual.phone";

/// A registered individual, numbers in the clear (only ever in memory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Individual {
    pub id: String,
    pub name: String,
    pub id_number: IdNumber,
    pub phone: String,
    pub created_at: Timestamp,
}

impl Individual {
    pub fn masked_phone(&self) -> String {
        format!("{}****{}", &self.phone[..3], &self.phone[7..])
    }
}

#[derive(Debug, Clone)]
pub struct Registration {
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub password: String,
}

#[derive(Debug, thiserror::Error)]
pub enum IndividualError {
    #[error("{}", .0.join("；"))]
    Invalid(Vec<String>),
    #[error("该身份证号码或手机号码已注册，请直接登录")]
    AlreadyRegistered,
    #[error("账号或密码错误，请重新输入")]
    BadCredentials,
    #[error("账号因连续多次登录失败已被锁定，请于{}后再试", .until.beijing())]
    Locked { until: Timestamp },
    #[error("验证码已失效，请重新获取")]
    CodeExpired,
    #[error("验证码错误，请重新输入")]
    WrongCode,
    #[error("验证码错误次数过多，请重新获取")]
    TooManyAttempts,
    #[error("获取验证码过于频繁，请稍后再试")]
    TooManyCodes,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a signing code is for; shown in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    /// 申请表签名 (seed 002: the individual signs with an SMS code).
    SignApplication,
}

impl CodePurpose {
    fn code(self) -> &'static str {
        match self {
            Self::SignApplication => "sign_application",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Self::SignApplication => "申请表签名",
        }
    }
}

pub(crate) fn open(fields: &FieldCipher, row: IndividualRow) -> Result<Individual, StoreError> {
    let bad = |e: tongban_crypto::CryptoError| {
        StoreError::InvalidRow(format!("individual {}: {e}", row.id))
    };
    let id_number = fields.open(ID_FIELD, &row.id_number).map_err(bad)?;
    Ok(Individual {
        id_number: IdNumber::parse(&id_number)
            .map_err(|e| StoreError::InvalidRow(e.to_string()))?,
        phone: fields.open(PHONE_FIELD, &row.phone).map_err(bad)?,
        id: row.id,
        name: row.name,
        created_at: Timestamp(row.created_at),
    })
}

/// Checks a person's name, identity number and mobile number, collecting every problem.
pub(crate) fn validate_person(
    name: &str,
    id_number: &str,
    phone: &str,
    errors: &mut Vec<String>,
) -> Option<(String, IdNumber, String)> {
    let name = name.trim();
    if name.chars().count() < 2 || name.chars().count() > 30 {
        errors.push("姓名：应为2至30个字".to_string());
    }
    let id = IdNumber::parse(id_number)
        .map_err(|e| errors.push(format!("身份证号码：{e}")))
        .ok();
    let phone = phone.trim().to_string();
    if !is_mobile(&phone) {
        errors.push("手机号码：应为11位手机号码".into());
    }
    match id {
        Some(id) if errors.is_empty() => Some((name.to_string(), id, phone)),
        _ => None,
    }
}

fn validate(reg: &Registration) -> Result<(String, IdNumber, String), IndividualError> {
    let mut errors = Vec::new();
    let person = validate_person(&reg.name, &reg.id_number, &reg.phone, &mut errors);
    let pw = &reg.password;
    if pw.chars().count() < 8
        || !pw.chars().any(|c| c.is_ascii_alphabetic())
        || !pw.chars().any(|c| c.is_ascii_digit())
    {
        errors.push("密码：至少8位，须同时包含字母和数字".into());
    } else if pw.contains(reg.phone.trim())
        || IdNumber::parse(&reg.id_number).is_ok_and(|id| pw.contains(&id.as_str()[10..]))
    {
        errors.push("密码：不能包含手机号码或身份证号码".into());
    }
    match person {
        Some(person) if errors.is_empty() => Ok(person),
        _ => Err(IndividualError::Invalid(errors)),
    }
}

/// A new individual's row, numbers sealed.
pub(crate) fn new_row(
    fields: &FieldCipher,
    name: &str,
    id_number: &IdNumber,
    phone: &str,
    password_hash: String,
) -> IndividualRow {
    IndividualRow {
        id: tongban_domain::ids::JobId::new().to_string(),
        name: name.to_string(),
        id_number: fields.seal(ID_FIELD, id_number.as_str()),
        id_number_index: fields.blind_index(ID_FIELD, id_number.as_str()),
        phone: fields.seal(PHONE_FIELD, phone),
        phone_index: fields.blind_index(PHONE_FIELD, phone),
        password_hash,
        failed_logins: 0,
        locked_until: None,
        created_at: Timestamp::now().millis(),
    }
}

/// Inserts a new individual and records the registration in `tx`.
pub(crate) async fn insert_registered(
    tx: &mut tongban_store::Tx,
    row: &IndividualRow,
    detail: serde_json::Value,
) -> Result<(), IndividualError> {
    match individuals::insert(tx, row).await {
        Err(StoreError::Conflict(_)) => return Err(IndividualError::AlreadyRegistered),
        other => other?,
    }
    let who = format!("individual:{}", row.id);
    audit::append(tx, &entry(&who, AuditAction::Registered, &who, detail)).await?;
    Ok(())
}

/// Registers an individual.
pub async fn register(
    store: &Store,
    fields: &FieldCipher,
    reg: &Registration,
) -> Result<Individual, IndividualError> {
    let (name, id_number, phone) = validate(reg)?;
    let hash = tokio::task::spawn_blocking({
        let pw = reg.password.clone();
        move || password::hash_password(&pw)
    })
    .await
    .map_err(|e| StoreError::InvalidRow(e.to_string()))?;
    let row = new_row(fields, &name, &id_number, &phone, hash);
    let mut tx = store.begin().await?;
    insert_registered(&mut tx, &row, json!({})).await?;
    tx.commit().await?;
    Ok(open(fields, row)?)
}

/// The blind index to look an account up by: a mobile number or an identity number.
fn login_index(fields: &FieldCipher, account: &str) -> Option<String> {
    let account = account.trim();
    if is_mobile(account) {
        Some(fields.blind_index(PHONE_FIELD, account))
    } else {
        IdNumber::parse(account)
            .ok()
            .map(|id| fields.blind_index(ID_FIELD, id.as_str()))
    }
}

/// Logs in with a mobile or identity number and the password; returns the session secret.
pub async fn login(
    store: &Store,
    fields: &FieldCipher,
    account: &str,
    password_given: &str,
    client: &str,
    lifetime: Duration,
) -> Result<(Individual, String), IndividualError> {
    let row = authenticate(store, account, fields, password_given, client).await?;
    let mut tx = store.begin().await?;
    let secret = open_session(&mut tx, &row.id, lifetime, json!({ "client": client })).await?;
    tx.commit().await?;
    Ok((open(fields, row)?, secret))
}

/// Checks a mobile or identity number and password, counting failures towards the lock.
pub(crate) async fn authenticate(
    store: &Store,
    account: &str,
    fields: &FieldCipher,
    password_given: &str,
    client: &str,
) -> Result<IndividualRow, IndividualError> {
    let now = Timestamp::now();
    let row = match login_index(fields, account) {
        Some(index) => individuals::by_login_index(store, &index).await?,
        None => None,
    };
    let Some(row) = row else {
        password::verify_off_thread(
            password::decoy_hash().to_string(),
            password_given.to_string(),
        )
        .await;
        return Err(IndividualError::BadCredentials);
    };
    let who = format!("individual:{}", row.id);
    if let Some(until) = row.locked_until.map(Timestamp).filter(|u| *u > now) {
        return Err(IndividualError::Locked { until });
    }
    if !password::verify_off_thread(row.password_hash.clone(), password_given.to_string()).await {
        let mut tx = store.begin().await?;
        let locked = individuals::record_failed_login(
            &mut tx,
            &row.id,
            LOCK_AFTER_FAILURES,
            now.after(LOCK_DURATION),
        )
        .await?;
        audit::append(
            &mut tx,
            &entry(
                "anonymous",
                AuditAction::LoginFailed,
                &who,
                json!({ "subject": who, "client": client }),
            ),
        )
        .await?;
        tx.commit().await?;
        return Err(match locked {
            Some(until) => IndividualError::Locked { until },
            None => IndividualError::BadCredentials,
        });
    }
    Ok(row)
}

/// Opens a session for individual `id` in `tx` and records the login; returns the secret.
pub(crate) async fn open_session(
    tx: &mut tongban_store::Tx,
    id: &str,
    lifetime: Duration,
    detail: serde_json::Value,
) -> Result<String, StoreError> {
    let secret = tongban_crypto::random_token();
    individuals::record_login(tx, id).await?;
    tongban_store::sessions::insert(
        tx,
        &session::key_of(&secret),
        tongban_store::sessions::Owner::Individual(id),
        Timestamp::now().after(lifetime),
    )
    .await?;
    let who = format!("individual:{id}");
    audit::append(tx, &entry(&who, AuditAction::Login, &who, detail)).await?;
    Ok(secret)
}

/// The individual of a live session.
pub async fn of_session(
    store: &Store,
    fields: &FieldCipher,
    secret: &str,
) -> Result<Option<Individual>, StoreError> {
    let session =
        tongban_store::sessions::live(store, &session::key_of(secret), Timestamp::now()).await?;
    let Some(id) = session.and_then(|s| s.individual_id) else {
        return Ok(None);
    };
    individuals::by_id(store, &id)
        .await?
        .map(|r| open(fields, r))
        .transpose()
}

fn code_digest(fields: &FieldCipher, code_id: &str, code: &str) -> String {
    fields.blind_index(&format!("sms_code:{code_id}"), code)
}

/// Sends a fresh six-digit code for `purpose` to the individual's phone, through the outbox.
pub async fn send_code(
    store: &Store,
    fields: &FieldCipher,
    who: &Individual,
    purpose: CodePurpose,
) -> Result<(), IndividualError> {
    let now = Timestamp::now();
    let mut tx = store.begin().await?;
    let hour_ago = Timestamp(now.millis() - 3_600_000);
    if individuals::codes_sent_since(&mut tx, &who.id, hour_ago).await? >= MAX_CODES_PER_HOUR {
        return Err(IndividualError::TooManyCodes);
    }
    let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000));
    let code_id = tongban_domain::ids::JobId::new().to_string();
    individuals::insert_code(
        &mut tx,
        &code_id,
        &who.id,
        purpose.code(),
        &code_digest(fields, &code_id, &code),
        now.after(CODE_LIFETIME),
    )
    .await?;
    let text = format!(
        "【上海市生态环境局】您正在进行{}，验证码{code}，{}分钟内有效。如非本人操作，请忽略本短信。",
        purpose.label(),
        CODE_LIFETIME.as_secs() / 60
    );
    sms::enqueue(&mut tx, fields, &who.phone, &text).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks and spends a code the individual typed in.
pub async fn verify_code(
    store: &Store,
    fields: &FieldCipher,
    who: &Individual,
    purpose: CodePurpose,
    code: &str,
) -> Result<(), IndividualError> {
    let now = Timestamp::now();
    let mut tx = store.begin().await?;
    let Some((code_id, digest, attempts)) =
        individuals::latest_code(&mut tx, &who.id, purpose.code(), now).await?
    else {
        return Err(IndividualError::CodeExpired);
    };
    if attempts >= MAX_CODE_ATTEMPTS {
        return Err(IndividualError::TooManyAttempts);
    }
    if code_digest(fields, &code_id, code.trim()) != digest {
        individuals::count_attempt(&mut tx, &code_id).await?;
        tx.commit().await?;
        return Err(IndividualError::WrongCode);
    }
    if !individuals::spend_code(&mut tx, &code_id, now).await? {
        return Err(IndividualError::CodeExpired);
    }
    let who_name = format!("individual:{}", who.id);
    audit::append(
        &mut tx,
        &entry(
            &who_name,
            AuditAction::CodeConfirmed,
            &who_name,
            json!({ "purpose": purpose.code() }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
