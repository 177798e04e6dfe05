//! The applicant portal: the home page with the bureau's services, and the login entry.
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use tongban_domain::catalogue::{self, CatalogueItem};

use crate::{AppState, WebError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_choice))
}

pub struct Group {
    pub name: &'static str,
    pub items: Vec<CatalogueItem>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    groups: Vec<Group>,
    total: usize,
}

pub fn render<T: Template>(page: T) -> Result<Html<String>, WebError> {
    page.render()
        .map(Html)
        .map_err(|e| WebError::Internal(format!("template: {e}")))
}

async fn home(State(state): State<AppState>) -> Result<impl IntoResponse, WebError> {
    // A service is online when its item spec is loaded.
    let groups: Vec<Group> = catalogue::GROUPS
        .iter()
        .map(|g| Group {
            name: g,
            items: catalogue::in_group(g)
                .map(|i| CatalogueItem {
                    online: state.items.get(i.id).is_some(),
                    ..*i
                })
                .collect(),
        })
        .collect();
    render(Home {
        total: catalogue::ITEMS.len(),
        groups,
    })
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginChoice;

async fn login_choice() -> Result<impl IntoResponse, WebError> {
    render(LoginChoice)
}
