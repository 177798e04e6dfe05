//! Renders a template with data to PDF.
use serde::Serialize;
use typst::foundations::{Label, Selector};
use typst::foundations::{Smart, Value};
use typst::introspection::{Introspector, MetadataElem};
use typst::utils::PicoStr;
use typst_layout::PagedDocument;
use typst_pdf::PdfOptions;

use crate::world::{DocWorld, Shared, Template};

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A template did not compile with the data given; a bug on our side, with typst's words.
    #[error("文档排版失败：{0}")]
    Typeset(String),
    #[error("文档数据无法编码：{0}")]
    Data(#[from] serde_json::Error),
}

/// A place on a page reserved for a seal or signature, in PDF points from the page's
/// bottom-left corner (PDF's own coordinates).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Slot {
    /// The role the template reserved it for, e.g. `issuer`, `applicant`, `employer`.
    pub role: String,
    /// Page number, from 1.
    pub page: usize,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

#[derive(Debug, Clone)]
pub struct Rendered {
    pub pdf: Vec<u8>,
    pub pages: usize,
    pub slots: Vec<Slot>,
    /// Characters no embedded font can draw, printed as 〓.
    pub substituted: Vec<char>,
}

/// Compiles templates; build one per process and share it (rendering takes `&self`).
pub struct Renderer {
    shared: Shared,
}

impl Default for Renderer {
    fn default() -> Self {
        Self::new()
    }
}

impl Renderer {
    pub fn new() -> Renderer {
        Renderer {
            shared: Shared::new(),
        }
    }

    /// Renders `data` with `template`; `qr_svg` becomes `/qr.svg` for templates that print one.
    pub fn render<T: Serialize>(
        &self,
        template: Template,
        data: &T,
        qr_svg: Option<String>,
    ) -> Result<Rendered, RenderError> {
        let mut substituted = Vec::new();
        let data = printable(serde_json::to_value(data)?, &mut substituted);
        let world = DocWorld::new(&self.shared, template, serde_json::to_vec(&data)?, qr_svg);
        let result = typst::compile::<PagedDocument>(&world).output;
        let out = result.and_then(|document| {
            let pdf = typst_pdf::pdf(
                &document,
                &PdfOptions {
                    // The same data gives the same bytes: no random document id or timestamp.
                    ident: Smart::Custom("tongban".into()),
                    creator: Smart::Custom(Some("通办 Tongban".into())),
                    ..PdfOptions::default()
                },
            )?;
            Ok(Rendered {
                pages: document.pages().len(),
                slots: slots(&document),
                pdf,
                substituted,
            })
        });
        // typst memoises every intermediate result and never forgets on its own; without this
        // a long-running server grows by megabytes a render.
        typst::comemo::evict(10);
        out.map_err(|diags| {
            RenderError::Typeset(
                diags
                    .iter()
                    .map(|d| d.message.to_string())
                    .collect::<Vec<_>>()
                    .join("；"),
            )
        })
    }
}

/// Replaces characters no font has in every string of `value`.
fn printable(value: serde_json::Value, missing: &mut Vec<char>) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        J::String(s) => J::String(crate::fonts::substitute_missing(&s, missing)),
        J::Array(items) => J::Array(items.into_iter().map(|v| printable(v, missing)).collect()),
        J::Object(map) => J::Object(
            map.into_iter()
                .map(|(k, v)| (k, printable(v, missing)))
                .collect(),
        ),
        other => other,
    }
}

/// The slots templates mark with `#metadata((role: .., width: .., height: ..)) <tongban-slot>`
/// at a box's top-left corner.
fn slots(document: &PagedDocument) -> Vec<Slot> {
    let Some(label) = Label::new(PicoStr::intern("tongban-slot")) else {
        return Vec::new();
    };
    let introspector = document.introspector();
    let mut out = Vec::new();
    for content in introspector.query(&Selector::Label(label)) {
        let (Some(meta), Some(location)) =
            (content.to_packed::<MetadataElem>(), content.location())
        else {
            continue;
        };
        let Some(position) = introspector.position(location) else {
            continue;
        };
        let Value::Dict(dict) = &meta.value else {
            continue;
        };
        let number = |key: &str| match dict.get(key) {
            Ok(Value::Float(f)) => Some(*f),
            Ok(Value::Int(i)) => Some(*i as f64),
            _ => None,
        };
        let (Ok(Value::Str(role)), Some(width), Some(height)) =
            (dict.get("role"), number("width"), number("height"))
        else {
            continue;
        };
        let page = position.page.get();
        let page_height = document.pages()[page - 1].frame.height().to_pt();
        // typst measures down from the top; PDF up from the bottom.
        let top = position.point.y.to_pt();
        out.push(Slot {
            role: role.to_string(),
            page,
            x: position.point.x.to_pt(),
            y: page_height - top - height,
            width,
            height,
        });
    }
    out
}
