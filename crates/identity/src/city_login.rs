//! The city platform's unified login (一网通办统一身份认证) as an OpenID Connect provider: the
//! authorization-code flow with PKCE, a nonce in the ID token, and the person's name, verified
//! phone and (where the platform releases it) identity-card number from the user-info endpoint.
//!
//! This module only speaks the protocol; `external` decides what a platform person is here.
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, UserInfoClaims,
    core::CoreGenderClaim, reqwest,
};
use serde::{Deserialize, Serialize};

/// How the platform is reached; the `[city_login]` section of the configuration.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CityLoginConfig {
    /// The provider's issuer URL (its discovery document is under it).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Our callback as registered with the platform, ending in `/login/city/callback`.
    pub redirect_url: String,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The user-info claim holding the identity-card number, where the platform releases it.
    #[serde(default)]
    pub id_number_claim: Option<String>,
    /// The button's text on the login pages.
    #[serde(default = "default_display_name")]
    pub display_name: String,
}

fn default_scopes() -> Vec<String> {
    ["openid", "profile", "phone"].map(String::from).to_vec()
}

fn default_display_name() -> String {
    "一网通办统一身份认证".into()
}

/// Who the platform says signed in. The phone is present only when the platform verified it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformPerson {
    pub issuer: String,
    pub subject: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CityLoginError {
    #[error("统一身份认证平台暂时无法访问，请稍后再试或使用账号密码登录")]
    Unavailable(String),
    #[error("统一身份认证未通过，请重新登录")]
    Rejected(String),
}

/// What the browser is sent to, and what must be kept until it comes back.
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Claims beyond the standard ones, kept by name so the identity-number claim is configurable.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ExtraClaims(BTreeMap<String, serde_json::Value>);
impl AdditionalClaims for ExtraClaims {}

/// How long discovered metadata (and with it the platform's signing keys) is trusted before it
/// is fetched again, so a key rotation at the platform is picked up without a restart.
const METADATA_LIFETIME: Duration = Duration::from_secs(600);

pub struct CityLogin {
    config: CityLoginConfig,
    http: reqwest::Client,
    discovered: Mutex<Option<(Instant, Client)>>,
}

impl CityLogin {
    pub fn new(config: CityLoginConfig) -> Self {
        let http = reqwest::ClientBuilder::new()
            // Following redirects from the platform's endpoints would open the server to SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client with default TLS settings builds");
        Self {
            config,
            http,
            discovered: Mutex::new(None),
        }
    }

    pub fn config(&self) -> &CityLoginConfig {
        &self.config
    }

    async fn client(&self) -> Result<Client, CityLoginError> {
        if let Some((at, client)) = &*self.discovered.lock().expect("not poisoned")
            && at.elapsed() < METADATA_LIFETIME
        {
            return Ok(client.clone());
        }
        let unavailable = |e: String| CityLoginError::Unavailable(e);
        let issuer =
            IssuerUrl::new(self.config.issuer.clone()).map_err(|e| unavailable(e.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| unavailable(format!("discovery: {e}")))?;
        let redirect = RedirectUrl::new(self.config.redirect_url.clone())
            .map_err(|e| unavailable(format!("redirect_url: {e}")))?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.clone())),
        )
        .set_redirect_uri(redirect);
        *self.discovered.lock().expect("not poisoned") = Some((Instant::now(), client.clone()));
        Ok(client)
    }

    /// Where to send the browser to sign in at the platform.
    pub async fn authorize(&self) -> Result<Authorization, CityLoginError> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in self.config.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(Authorization {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code the platform sent back for the person it authenticated: checks the ID
    /// token (signature, issuer, audience, expiry, nonce, access-token hash), then reads the
    /// user-info claims for the same subject.
    pub async fn person(
        &self,
        code: &str,
        nonce: &str,
        pkce_verifier: &str,
    ) -> Result<PlatformPerson, CityLoginError> {
        let client = self.client().await?;
        let rejected = |e: String| CityLoginError::Rejected(e);
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| CityLoginError::Unavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request_async(&self.http)
            .await
            .map_err(|e| rejected(format!("token: {}", chain(&e))))?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| rejected("no ID token in the token response".into()))?;
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(nonce.to_string()))
            .map_err(|e| rejected(format!("ID token: {e}")))?;
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token
                .signing_alg()
                .map_err(|e| rejected(e.to_string()))?;
            let key = id_token
                .signing_key(&verifier)
                .map_err(|e| rejected(e.to_string()))?;
            let actual = AccessTokenHash::from_token(tokens.access_token(), alg, key)
                .map_err(|e| rejected(e.to_string()))?;
            if actual != *expected {
                return Err(rejected("access token does not match the ID token".into()));
            }
        }
        let subject = claims.subject().clone();
        let info: UserInfoClaims<ExtraClaims, CoreGenderClaim> = client
            .user_info(tokens.access_token().clone(), Some(subject.clone()))
            .map_err(|e| CityLoginError::Unavailable(e.to_string()))?
            .request_async(&self.http)
            .await
            .map_err(|e| rejected(format!("user info: {e}")))?;
        let phone = info
            .phone_number()
            .filter(|_| info.phone_number_verified() == Some(true))
            .map(|p| p.as_str().trim().trim_start_matches("+86").to_string());
        let id_number = self.config.id_number_claim.as_ref().and_then(|claim| {
            info.additional_claims()
                .0
                .get(claim)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        });
        Ok(PlatformPerson {
            issuer: self.config.issuer.clone(),
            subject: subject.as_str().to_string(),
            name: info
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().trim().to_string())
                .filter(|n| !n.is_empty()),
            phone,
            id_number,
        })
    }
}

/// An error with its causes, for the log.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
