//! The HTTP front end. Handlers parse and authorise, call one function of the layer below, and
//! render what it returns; they hold no SQL and no business rules.
#![forbid(unsafe_code)]

mod applicant;
pub(crate) mod applications;
mod assets;
mod batches;
mod case_form;
mod cases_desk;
mod city_login;
pub mod csrf;
mod enterprise;
mod error;
mod health;
mod individual;
pub mod ledger_api;
mod ledger_board;
mod middleware;
mod portal;
mod rate_limit;
mod reports;
mod review;
mod session;
mod signing;
mod verify;
mod workbench;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tongban_crypto::FieldCipher;
use tongban_crypto::cert::Ca;
use tongban_domain::calendar::WorkCalendar;
use tongban_files::FileStore;
use tongban_store::Store;

pub use error::WebError;

/// Settings of the web layer.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Mark cookies `Secure` (set when served over HTTPS, e.g. behind the city gateway).
    pub secure_cookies: bool,
    /// How long a login lasts.
    pub session_lifetime: Duration,
    /// Longest time one request may take; bounds how long a graceful shutdown can wait.
    pub request_timeout: Duration,
    /// Login and registration attempts allowed per client address and endpoint each minute.
    pub login_attempts_per_minute: i64,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_lifetime: Duration::from_secs(8 * 3600),
            request_timeout: Duration::from_secs(30),
            login_attempts_per_minute: 20,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub files: FileStore,
    pub config: WebConfig,
    /// The CA whose certificates may log in.
    pub ca: Arc<Ca>,
    /// Keys for sensitive stored fields.
    pub fields: Arc<FieldCipher>,
    pub calendar: Arc<WorkCalendar>,
    /// The city platform's unified login, when configured.
    pub city_login: Option<Arc<tongban_identity::city_login::CityLogin>>,
    /// The services online: every item spec, loaded and checked.
    pub items: Arc<tongban_engine::Catalogue>,
    /// Prefill sources outside Tongban, asked when an application starts.
    pub prefill: Vec<Arc<dyn tongban_engine::prefill::PrefillSource>>,
    /// The bureau as issuer of documents: its seal key, the renderer, its public address.
    pub bureau: Arc<tongban_cases::issuing::Bureau>,
    /// 固废链, the four-province verifiable log, with its batcher and access applications.
    pub ledger: Arc<tongban_ledger::service::Ledger>,
}

impl AppState {
    /// What the case workflow needs from the state.
    pub fn desk(&self) -> tongban_cases::workflow::Desk<'_> {
        tongban_cases::workflow::Desk {
            store: &self.store,
            calendar: &self.calendar,
            fields: &self.fields,
            files: &self.files,
            bureau: &self.bureau,
        }
    }
}

/// The whole application as a router, so tests can drive it in-process.
pub fn app(state: AppState) -> Router {
    let timeout = state.config.request_timeout;
    let routes = Router::new()
        .merge(portal::routes())
        .merge(workbench::routes())
        .merge(cases_desk::routes())
        .merge(batches::routes())
        .merge(reports::routes())
        .merge(enterprise::routes())
        .merge(review::routes())
        .merge(individual::routes())
        .merge(city_login::routes())
        .merge(applications::routes())
        .merge(verify::routes())
        .merge(signing::routes())
        .merge(ledger_api::routes())
        .merge(ledger_board::routes())
        .merge(health::routes())
        .merge(assets::routes())
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate_limit::logins,
        ))
        .with_state(state);
    middleware::apply(routes, timeout)
}
