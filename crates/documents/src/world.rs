//! The typst "world" a render sees: our templates under fixed paths, the data of this one
//! document as `/data.json`, an optional `/qr.svg`, and the embedded fonts.
//!
//! Paths are fixed on purpose: typst interns every path for the life of the process and
//! memoises by content, so fixed paths with a fixed template let renders share the cache.
use std::path::PathBuf;
use std::sync::LazyLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

/// A template compiled into the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Template {
    /// Reports and application forms: sections of fields and tables, signature boxes.
    Form,
    /// Notices and decisions in the official-letter layout (GB/T 9704).
    Letter,
    /// Licences and certificates: a bordered sheet with the QR code.
    Licence,
    /// The seal or signature drawn onto a signed PDF.
    Stamp,
}

const COMMON: &str = include_str!("../templates/common.typ");

impl Template {
    pub const ALL: [Template; 4] = [Self::Form, Self::Letter, Self::Licence, Self::Stamp];

    fn path(self) -> &'static str {
        match self {
            Self::Form => "/form.typ",
            Self::Letter => "/letter.typ",
            Self::Licence => "/licence.typ",
            Self::Stamp => "/stamp.typ",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Self::Form => include_str!("../templates/form.typ"),
            Self::Letter => include_str!("../templates/letter.typ"),
            Self::Licence => include_str!("../templates/licence.typ"),
            Self::Stamp => include_str!("../templates/stamp.typ"),
        }
    }
}

fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).expect("fixed template paths are valid");
    FileId::new(RootedPath::new(VirtualRoot::Project, vpath))
}

static DATA: LazyLock<FileId> = LazyLock::new(|| file_id("/data.json"));
static QR: LazyLock<FileId> = LazyLock::new(|| file_id("/qr.svg"));

/// What every render shares: the standard library, the font book and the parsed templates.
pub(crate) struct Shared {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    sources: Vec<(FileId, Source)>,
}

impl Shared {
    pub(crate) fn new() -> Shared {
        let mut sources = vec![(file_id("/common.typ"), COMMON)];
        sources.extend(Template::ALL.map(|t| (file_id(t.path()), t.text())));
        Shared {
            library: LazyHash::new(Library::default()),
            book: LazyHash::new(crate::fonts::book()),
            sources: sources
                .into_iter()
                .map(|(id, text)| (id, Source::new(id, text.to_string())))
                .collect(),
        }
    }
}

/// One render: a template with its data.
pub(crate) struct DocWorld<'a> {
    pub shared: &'a Shared,
    pub main: FileId,
    pub data: Bytes,
    pub qr: Option<Bytes>,
}

impl<'a> DocWorld<'a> {
    pub(crate) fn new(
        shared: &'a Shared,
        template: Template,
        data: Vec<u8>,
        qr: Option<String>,
    ) -> Self {
        DocWorld {
            shared,
            main: file_id(template.path()),
            data: Bytes::new(data),
            qr: qr.map(|svg| Bytes::new(svg.into_bytes())),
        }
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(PathBuf::from(format!("{id:?}")))
}

impl World for DocWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.shared.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.shared.book
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        self.shared
            .sources
            .iter()
            .find(|(sid, _)| *sid == id)
            .map(|(_, source)| source.clone())
            .ok_or_else(|| not_found(id))
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == *DATA {
            return Ok(self.data.clone());
        }
        if id == *QR {
            return self.qr.clone().ok_or_else(|| not_found(id));
        }
        self.source(id).map(Bytes::from_string)
    }

    fn font(&self, index: usize) -> Option<Font> {
        crate::fonts::FONTS.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        // Templates print the dates they are given; "today" would make renders differ by day.
        None
    }
}
