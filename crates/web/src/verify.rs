//! 核验: the page behind a licence's QR code (the signed payload checked with the bureau's
//! public key, then the live status from our records), and a page that checks the signatures
//! inside any PDF Tongban issued.
use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tongban_cases::issuing::{self, LiveStatus};
use tongban_documents::{qr, signature};
use tongban_store::documents;

use crate::csrf::CsrfToken;
use crate::portal::render;
use crate::{AppState, WebError};

/// Largest PDF the verify page reads.
const MAX_PDF: usize = 50 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/verify", get(upload_page).post(check_pdf))
        .route("/verify/public-key.pem", get(public_key))
        .route("/verify/{payload}", get(check_qr))
        .layer(DefaultBodyLimit::max(MAX_PDF))
}

pub struct Fact {
    pub label: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "verify_qr.html")]
struct QrPage {
    /// The signature verified: the facts below are the bureau's.
    genuine: bool,
    problem: String,
    kind: String,
    facts: Vec<Fact>,
    status: String,
    valid: bool,
    status_detail: String,
    /// For a notice on a case: where the case stands and its steps so far.
    progress: Vec<Fact>,
}

fn date(d: chrono::NaiveDate) -> String {
    d.format("%Y年%-m月%-d日").to_string()
}

async fn check_qr(
    State(state): State<AppState>,
    Path(payload): Path<String>,
) -> Result<Response, WebError> {
    let claims = match qr::open(&payload, &state.bureau.public_key()) {
        Ok(c) => c,
        Err(e) => {
            return Ok(render(QrPage {
                genuine: false,
                problem: e.to_string(),
                kind: String::new(),
                facts: vec![],
                status: "无效".into(),
                valid: false,
                status_detail: String::new(),
                progress: vec![],
            })?
            .into_response());
        }
    };
    // Never cached: a revocation must show on the next scan.
    let row = documents::by_id(&state.store, &claims.id.to_string()).await?;
    let today = issuing::beijing(tongban_domain::Timestamp::now()).date_naive();
    let status = issuing::status_of(row.as_ref(), today);
    let what = if claims.kind.has_qr() {
        "本证照"
    } else {
        "本文书"
    };
    let status_detail = match &status {
        LiveStatus::Valid => format!("{what}经上海市生态环境局签发，当前有效。"),
        LiveStatus::Revoked { at, reason } => format!(
            "本证照已于{}撤销：{reason}",
            issuing::beijing(*at).format("%Y年%-m月%-d日 %H:%M")
        ),
        LiveStatus::Expired { on } => format!("本证照有效期至{on}，已过期。"),
        LiveStatus::Unknown => "二维码签名有效，但本系统中没有该证照的签发记录。".into(),
    };
    let mut facts = vec![Fact {
        label: "持证单位".into(),
        value: claims.holder.clone(),
    }];
    facts.extend(claims.facts.iter().enumerate().map(|(i, f)| Fact {
        label: if i == 0 {
            "证照编号".into()
        } else {
            "其他要素".into()
        },
        value: f.clone(),
    }));
    facts.push(Fact {
        label: "签发日期".into(),
        value: date(claims.issued),
    });
    facts.push(Fact {
        label: "有效期至".into(),
        value: claims.valid_until.map_or("长期".into(), date),
    });
    // A notice's code answers 扫码查询办理进度: the case as it stands now.
    let mut progress = vec![];
    if matches!(
        claims.kind,
        tongban_documents::DocumentKind::CorrectionNotice
            | tongban_documents::DocumentKind::AcceptanceNotice
    ) && let Some(p) =
        tongban_cases::workflow::progress_of_document(&state.store, &claims.id.to_string()).await?
    {
        let item = state
            .items
            .get(&p.item_id)
            .map_or_else(String::new, |i| i.name.clone());
        progress.push(Fact {
            label: "办理事项".into(),
            value: item,
        });
        progress.push(Fact {
            label: "办件编号".into(),
            value: p.number,
        });
        progress.push(Fact {
            label: "当前状态".into(),
            value: p.state.into(),
        });
        progress.extend(p.steps.into_iter().map(|(at, label)| Fact {
            label: at.beijing()[..16].to_string(),
            value: label.into(),
        }));
    }
    let mut response = render(QrPage {
        genuine: true,
        progress,
        problem: String::new(),
        kind: row
            .as_ref()
            .map_or(claims.kind.label().to_string(), |r| r.title.clone()),
        facts,
        valid: status == LiveStatus::Valid,
        status: status.label().into(),
        status_detail,
    })?
    .into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

async fn public_key(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        state.bureau.public_key().to_pem(),
    )
}

pub struct SignatureLine {
    pub name: String,
    pub role: String,
    pub time: String,
    pub method: String,
    pub trust: String,
    pub valid: bool,
}

#[derive(Template)]
#[template(path = "verify_pdf.html")]
struct PdfPage {
    csrf: String,
    checked: bool,
    file_name: String,
    intact: bool,
    verdict: String,
    signatures: Vec<SignatureLine>,
    issued: Option<String>,
}

async fn upload_page(CsrfToken(csrf): CsrfToken) -> Result<Response, WebError> {
    Ok(render(PdfPage {
        csrf,
        checked: false,
        file_name: String::new(),
        intact: false,
        verdict: String::new(),
        signatures: vec![],
        issued: None,
    })?
    .into_response())
}

async fn check_pdf(
    State(state): State<AppState>,
    CsrfToken(csrf): CsrfToken,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let bad = |_| WebError::Invalid("上传未完成，请重新选择文件。".into());
    let (mut file_name, mut bytes) = (String::new(), bytes::Bytes::new());
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        if field.name() == Some("file") {
            file_name = field.file_name().unwrap_or_default().to_string();
            bytes = field.bytes().await.map_err(bad)?;
        }
    }
    if bytes.is_empty() {
        return Err(WebError::Invalid("请选择要核验的PDF文件。".into()));
    }
    if !bytes.starts_with(b"%PDF-") {
        return Err(WebError::Invalid(format!("「{file_name}」不是PDF文件。")));
    }
    let pdf = bytes.clone();
    let check = tokio::task::spawn_blocking(move || signature::verify(&pdf))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(|e| WebError::Invalid(format!("「{file_name}」无法读取：{e}")))?;
    let bureau = state.bureau.public_key();
    let trusts: Vec<issuing::Trust> = check
        .signatures
        .iter()
        .map(|s| issuing::trust_of(s, &bureau, &state.ca))
        .collect();
    let verdict = issuing::Verdict::of(&check, &trusts);
    let signatures = check
        .signatures
        .iter()
        .zip(&trusts)
        .map(|(s, trust)| SignatureLine {
            name: s.name.clone(),
            role: role_label(&s.role).into(),
            time: s.time.clone(),
            method: s.method.clone(),
            trust: trust.label(),
            valid: s.valid,
        })
        .collect();
    let intact = verdict == issuing::Verdict::Intact;
    let verdict = verdict.message();
    let digest = tongban_crypto::sm3(&bytes).to_hex();
    let issued = documents::by_file(&state.store, &digest)
        .await?
        .map(|row| format!("本局签发的《{}》（编号 {}）", row.title, row.number));
    Ok(render(PdfPage {
        csrf,
        checked: true,
        file_name,
        intact,
        verdict,
        signatures,
        issued,
    })?
    .into_response())
}

fn role_label(role: &str) -> &str {
    match role {
        "issuer" => "发证机关",
        "applicant" => "申请人",
        "employer" => "聘用单位",
        other => other,
    }
}
