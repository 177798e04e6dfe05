//! Errors as the user sees them: every failure becomes the right status and a clear Chinese
//! message, as an HTML page or as JSON for clients that ask for it. Internal detail goes to the
//! log under the request id, which the message quotes so support can find it; never to the user.
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use tongban_files::FileError;
use tongban_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    /// Needs a login; pages redirect to the login page.
    #[error("login required")]
    LoginRequired { login_path: &'static str },
    #[error("forbidden")]
    Forbidden,
    /// Forbidden, with the reason the user should read.
    #[error("not allowed: {0}")]
    NotAllowed(String),
    /// A state-changing request without the page's CSRF token: an old page, or another site.
    #[error("missing or wrong CSRF token")]
    StaleForm,
    /// The user's input is wrong; the message names the field.
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("conflict: {0}")]
    Conflict(String),
    /// Too many attempts from one client in a short time.
    #[error("too many requests")]
    TooManyRequests,
    /// The store or another dependency cannot be reached.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

/// The user-facing side of an error, picked up by the error-rendering middleware.
#[derive(Clone, Debug)]
pub struct ErrorMessage {
    pub code: &'static str,
    pub message: String,
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            WebError::Forbidden | WebError::StaleForm | WebError::NotAllowed(_) => {
                StatusCode::FORBIDDEN
            }
            WebError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn message(&self) -> ErrorMessage {
        let (code, message) = match self {
            WebError::NotFound => ("not_found", "您访问的页面不存在或已被删除。".to_string()),
            WebError::LoginRequired { .. } => ("login_required", "请先登录。".to_string()),
            WebError::Forbidden => ("forbidden", "您无权访问该内容。".to_string()),
            WebError::StaleForm => (
                "stale_form",
                "页面已过期或请求来源无法确认，请刷新页面后重新提交。".to_string(),
            ),
            WebError::Invalid(m) => ("invalid", m.clone()),
            WebError::NotAllowed(m) => ("not_allowed", m.clone()),
            WebError::Conflict(m) => ("conflict", m.clone()),
            WebError::TooManyRequests => (
                "too_many_requests",
                "操作过于频繁，请一分钟后再试。".to_string(),
            ),
            WebError::Unavailable(_) => (
                "unavailable",
                "系统暂时无法提供服务，请稍后再试。".to_string(),
            ),
            WebError::Internal(_) => ("internal", "系统繁忙，请稍后再试。".to_string()),
        };
        ErrorMessage { code, message }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::LoginRequired { login_path } = self {
            return Redirect::to(login_path).into_response();
        }
        match &self {
            WebError::Internal(detail) => tracing::error!(error = %detail, "request failed"),
            WebError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "dependency unavailable")
            }
            _ => {}
        }
        let mut response = (self.status(), [(header::CACHE_CONTROL, "no-store")]).into_response();
        response.extensions_mut().insert(self.message());
        response
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            e if e.is_unavailable() => WebError::Unavailable(e.to_string()),
            StoreError::Conflict(what) => WebError::Conflict(format!("该{what}已存在。")),
            e => WebError::Internal(e.to_string()),
        }
    }
}

impl From<FileError> for WebError {
    fn from(e: FileError) -> Self {
        match e {
            FileError::NotFound(_) => WebError::NotFound,
            // A corrupted object is never served; the log says which one.
            e => WebError::Internal(e.to_string()),
        }
    }
}

impl From<tongban_identity::enterprise::EnterpriseError> for WebError {
    fn from(e: tongban_identity::enterprise::EnterpriseError) -> Self {
        use tongban_identity::enterprise::EnterpriseError as E;
        match e {
            E::Certificate(_) | E::BadSignature | E::ChallengeSpent => {
                WebError::Invalid(e.to_string())
            }
            E::Invalid(errors) => WebError::Invalid(errors.join("；")),
            E::NotAllowed(m) => WebError::NotAllowed(m),
            E::Conflict(m) => WebError::Conflict(m),
            E::NotFound => WebError::NotFound,
            E::Store(e) => e.into(),
            E::Files(e) => e.into(),
        }
    }
}

pub async fn not_found() -> WebError {
    WebError::NotFound
}

/// The message for a status that reached the client without one (an extractor's rejection, a
/// timeout, a panic): always Chinese, never the framework's English text.
pub fn message_for_status(status: StatusCode) -> ErrorMessage {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "您访问的页面不存在或已被删除。"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "不支持该操作方式。"),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "提交的内容过大。"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "请求处理超时，请稍后再试。"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "提交的内容格式不正确。"),
        StatusCode::TOO_MANY_REQUESTS => ("too_many_requests", "操作过于频繁，请稍后再试。"),
        s if s.is_client_error() => ("bad_request", "请求内容有误，请检查后重试。"),
        _ => ("internal", "系统繁忙，请稍后再试。"),
    };
    ErrorMessage {
        code,
        message: message.to_string(),
    }
}
