//! Signing on through the city platform: what a platform person is here.
//!
//! A platform account linked to an individual signs that individual in. The first time, the
//! person either links an existing account by signing in to it once with its password, or
//! creates one: the platform supplies name and verified phone, the person types what it does not
//! release (usually the identity-card number, which every individual account carries). Nothing is
//! linked by matching a phone or name alone, so a platform account cannot take over an account it
//! has not proven.
//!
//! The sign-on is bound to the browser that started it: its cookie secret's SM3 finds the row,
//! and the platform's `state` must match that row.
use std::time::Duration;

use serde_json::json;
use tongban_crypto::FieldCipher;
use tongban_domain::Timestamp;
use tongban_domain::audit::AuditAction;
use tongban_domain::id_number::IdNumber;
use tongban_store::external_accounts::{self, PendingLogin};
use tongban_store::{Store, StoreError, Tx, audit};

use crate::audit::entry;
use crate::city_login::{CityLogin, CityLoginError, PlatformPerson};
use crate::individual::{self, Individual, IndividualError};
use crate::session::key_of;

/// How long a person has from leaving for the platform to finishing the first-time link.
pub const SIGN_ON_LIFETIME: Duration = Duration::from_secs(900);

/// Individuals created through the platform have no password: this never parses as a hash, so
/// password login fails for them until they set one.
const NO_PASSWORD: &str = "!city-login";

const PKCE_FIELD: &str = "external_login.pkce_verifier";
const PERSON_FIELD: &str = "external_login.person";

#[derive(Debug, thiserror::Error)]
pub enum ExternalError {
    #[error(transparent)]
    Platform(#[from] CityLoginError),
    #[error("登录已超时或已完成，请重新登录")]
    Expired,
    #[error("该账号已绑定其他统一身份认证账号")]
    AlreadyLinked,
    #[error("该账号的身份证号码与统一身份认证的实名信息不一致，无法绑定")]
    Mismatch,
    #[error(transparent)]
    Individual(#[from] IndividualError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A sign-on started: send the browser to `url`, keep `secret` in its cookie.
pub struct Started {
    pub url: String,
    pub secret: String,
}

pub async fn start(
    store: &Store,
    fields: &FieldCipher,
    login: &CityLogin,
) -> Result<Started, ExternalError> {
    let auth = login.authorize().await?;
    let secret = tongban_crypto::random_token();
    let now = Timestamp::now();
    let mut tx = store.begin().await?;
    external_accounts::begin(
        &mut tx,
        &PendingLogin {
            id: key_of(&secret),
            state: auth.state,
            nonce: auth.nonce,
            pkce_verifier: fields.seal(PKCE_FIELD, &auth.pkce_verifier),
            person: None,
            expires_at: now.after(SIGN_ON_LIFETIME).millis(),
            created_at: now.millis(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Started {
        url: auth.url,
        secret,
    })
}

/// What the platform's answer led to.
pub enum Arrival {
    SignedIn {
        individual: Individual,
        secret: String,
    },
    /// The platform account is not linked yet: the person must link or create an account.
    MustLink(PlatformPerson),
}

fn sealed_failure(e: tongban_crypto::CryptoError) -> StoreError {
    StoreError::InvalidRow(format!("external login: {e}"))
}

/// Handles the platform's redirect back with `state` and `code` for the browser holding `secret`.
#[allow(clippy::too_many_arguments)]
pub async fn arrive(
    store: &Store,
    fields: &FieldCipher,
    login: &CityLogin,
    secret: &str,
    state: &str,
    code: &str,
    client: &str,
    lifetime: Duration,
) -> Result<Arrival, ExternalError> {
    let pending = external_accounts::pending(store, &key_of(secret), Timestamp::now())
        .await?
        .filter(|p| p.person.is_none() && p.state == state)
        .ok_or(ExternalError::Expired)?;
    let verifier = fields
        .open(PKCE_FIELD, &pending.pkce_verifier)
        .map_err(sealed_failure)?;
    let person = login.person(code, &pending.nonce, &verifier).await?;
    let linked =
        external_accounts::linked_individual(store, &person.issuer, &person.subject).await?;
    let mut tx = store.begin().await?;
    let Some(individual_id) = linked else {
        let sealed = fields.seal(
            PERSON_FIELD,
            &serde_json::to_string(&person).expect("a person serialises"),
        );
        if !external_accounts::set_person(&mut tx, &pending.id, &sealed).await? {
            return Err(ExternalError::Expired);
        }
        tx.commit().await?;
        return Ok(Arrival::MustLink(person));
    };
    if !external_accounts::finish(&mut tx, &pending.id).await? {
        return Err(ExternalError::Expired);
    }
    let now = Timestamp::now();
    external_accounts::record_login(&mut tx, &person.issuer, &person.subject, now).await?;
    let secret = individual::open_session(
        &mut tx,
        &individual_id,
        lifetime,
        json!({ "client": client, "via": "city_login" }),
    )
    .await?;
    tx.commit().await?;
    let row = tongban_store::individuals::by_id(store, &individual_id)
        .await?
        .ok_or_else(|| StoreError::InvalidRow(format!("linked individual {individual_id}")))?;
    Ok(Arrival::SignedIn {
        individual: individual::open(fields, row)?,
        secret,
    })
}

/// The platform person waiting to be linked in the browser holding `secret`.
pub async fn waiting(
    store: &Store,
    fields: &FieldCipher,
    secret: &str,
) -> Result<Option<PlatformPerson>, StoreError> {
    let Some(sealed) = external_accounts::pending(store, &key_of(secret), Timestamp::now())
        .await?
        .and_then(|p| p.person)
    else {
        return Ok(None);
    };
    let json = fields.open(PERSON_FIELD, &sealed).map_err(sealed_failure)?;
    serde_json::from_str(&json)
        .map(Some)
        .map_err(|e| StoreError::InvalidRow(format!("external login person: {e}")))
}

async fn waiting_or_expired(
    store: &Store,
    fields: &FieldCipher,
    secret: &str,
) -> Result<PlatformPerson, ExternalError> {
    waiting(store, fields, secret)
        .await?
        .ok_or(ExternalError::Expired)
}

/// Ends the sign-on, links the person to individual `id` and opens a session, all in `tx`.
async fn link_and_sign_in(
    mut tx: Tx,
    secret: &str,
    person: &PlatformPerson,
    id: &str,
    client: &str,
    lifetime: Duration,
) -> Result<String, ExternalError> {
    if !external_accounts::finish(&mut tx, &key_of(secret)).await? {
        return Err(ExternalError::Expired);
    }
    match external_accounts::link(
        &mut tx,
        &person.issuer,
        &person.subject,
        id,
        Timestamp::now(),
    )
    .await
    {
        Err(StoreError::Conflict(_)) => return Err(ExternalError::AlreadyLinked),
        other => other?,
    }
    let who = format!("individual:{id}");
    audit::append(
        &mut tx,
        &entry(
            &who,
            AuditAction::AccountLinked,
            &who,
            json!({ "issuer": person.issuer, "subject": person.subject }),
        ),
    )
    .await?;
    let session = individual::open_session(
        &mut tx,
        id,
        lifetime,
        json!({ "client": client, "via": "city_login" }),
    )
    .await?;
    tx.commit().await?;
    Ok(session)
}

/// Links the waiting platform person to the account they sign in to with its password. Where
/// the platform released an identity number, it must be the account's.
pub async fn link_existing(
    store: &Store,
    fields: &FieldCipher,
    secret: &str,
    account: &str,
    password: &str,
    client: &str,
    lifetime: Duration,
) -> Result<(Individual, String), ExternalError> {
    let person = waiting_or_expired(store, fields, secret).await?;
    let row = individual::authenticate(store, account, fields, password, client).await?;
    let who = individual::open(fields, row)?;
    if let Some(platform_id) = &person.id_number
        && IdNumber::parse(platform_id).ok().as_ref() != Some(&who.id_number)
    {
        return Err(ExternalError::Mismatch);
    }
    let tx = store.begin().await?;
    let session = link_and_sign_in(tx, secret, &person, &who.id, client, lifetime).await?;
    Ok((who, session))
}

/// What the person types to create an account; what the platform supplied takes precedence.
#[derive(Debug, Clone, Default)]
pub struct Completion {
    pub name: String,
    pub id_number: String,
    pub phone: String,
}

/// The form as the person must fill it: the platform's values, then what they typed.
pub fn completed(person: &PlatformPerson, typed: &Completion) -> Completion {
    Completion {
        name: person.name.clone().unwrap_or_else(|| typed.name.clone()),
        id_number: person
            .id_number
            .clone()
            .unwrap_or_else(|| typed.id_number.clone()),
        phone: person.phone.clone().unwrap_or_else(|| typed.phone.clone()),
    }
}

/// Creates an individual for the waiting platform person, links it and signs it in.
pub async fn register(
    store: &Store,
    fields: &FieldCipher,
    secret: &str,
    typed: &Completion,
    client: &str,
    lifetime: Duration,
) -> Result<(Individual, String), ExternalError> {
    let person = waiting_or_expired(store, fields, secret).await?;
    let values = completed(&person, typed);
    let mut errors = Vec::new();
    let Some((name, id_number, phone)) =
        individual::validate_person(&values.name, &values.id_number, &values.phone, &mut errors)
    else {
        return Err(IndividualError::Invalid(errors).into());
    };
    let row = individual::new_row(fields, &name, &id_number, &phone, NO_PASSWORD.into());
    let mut tx = store.begin().await?;
    individual::insert_registered(&mut tx, &row, json!({ "via": "city_login" })).await?;
    let id = row.id.clone();
    let session = link_and_sign_in(tx, secret, &person, &id, client, lifetime).await?;
    Ok((individual::open(fields, row)?, session))
}
