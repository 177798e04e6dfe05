//! What a file is, judged by its content (magic numbers), never by its name: an upload called
//! `报告.pdf` that is a Windows executable is an executable.

/// A recognised file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Jpeg,
    Png,
    /// OLE2 compound document: legacy Word (`.doc`) or Excel (`.xls`).
    Ole2,
    Docx,
    Xlsx,
    Zip,
    /// A program (PE, ELF, Mach-O) or a script with a `#!` line: never accepted.
    Executable,
    Unknown,
}

pub fn sniff(bytes: &[u8]) -> FileKind {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"%PDF-") {
        FileKind::Pdf
    } else if starts(&[0xFF, 0xD8, 0xFF]) {
        FileKind::Jpeg
    } else if starts(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        FileKind::Png
    } else if starts(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        FileKind::Ole2
    } else if starts(b"PK\x03\x04") {
        // Office Open XML is a zip whose entry names say what it is; names are stored in the clear.
        let has = |name: &[u8]| bytes.windows(name.len()).any(|w| w == name);
        if has(b"word/document") {
            FileKind::Docx
        } else if has(b"xl/workbook") {
            FileKind::Xlsx
        } else {
            FileKind::Zip
        }
    } else if starts(b"MZ")
        || starts(b"\x7fELF")
        || starts(&[0xCF, 0xFA, 0xED, 0xFE])
        || starts(&[0xFE, 0xED, 0xFA, 0xCE])
        || starts(&[0xCA, 0xFE, 0xBA, 0xBE])
        || starts(b"#!")
    {
        FileKind::Executable
    } else {
        FileKind::Unknown
    }
}

impl FileKind {
    /// Whether a file of this kind is of the allowed type `name` (`pdf`, `jpg`, `png`, `doc`,
    /// `docx`, `xls`, `xlsx`, `zip`). Legacy `.doc` and `.xls` share one container, so the
    /// file name tells them apart.
    pub fn is(self, name: &str, file_name: &str) -> bool {
        let ext = file_name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        match (self, name) {
            (FileKind::Pdf, "pdf") | (FileKind::Jpeg, "jpg") | (FileKind::Png, "png") => true,
            (FileKind::Docx, "docx") | (FileKind::Xlsx, "xlsx") | (FileKind::Zip, "zip") => true,
            (FileKind::Ole2, "doc") => ext == "doc",
            (FileKind::Ole2, "xls") => ext == "xls",
            _ => false,
        }
    }

    /// The MIME type to serve it with.
    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Ole2 => "application/octet-stream",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Zip => "application/zip",
            FileKind::Executable | FileKind::Unknown => "application/octet-stream",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Jpeg => "jpg",
            FileKind::Png => "png",
            FileKind::Ole2 => "ole2",
            FileKind::Docx => "docx",
            FileKind::Xlsx => "xlsx",
            FileKind::Zip => "zip",
            FileKind::Executable => "executable",
            FileKind::Unknown => "unknown",
        }
    }

    pub fn from_code(code: &str) -> FileKind {
        [
            FileKind::Pdf,
            FileKind::Jpeg,
            FileKind::Png,
            FileKind::Ole2,
            FileKind::Docx,
            FileKind::Xlsx,
            FileKind::Zip,
            FileKind::Executable,
        ]
        .into_iter()
        .find(|k| k.code() == code)
        .unwrap_or(FileKind::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_not_the_name() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), FileKind::Pdf);
        assert_eq!(sniff(b"MZ\x90\x00\x03"), FileKind::Executable);
        assert_eq!(sniff(b"\x7fELF\x02\x01"), FileKind::Executable);
        assert_eq!(sniff(b"#!/bin/sh\nrm -rf /"), FileKind::Executable);
        assert_eq!(sniff(b"PK\x03\x04....word/document.xml"), FileKind::Docx);
        assert_eq!(sniff(b"PK\x03\x04....xl/workbook.xml"), FileKind::Xlsx);
        assert_eq!(sniff(b"PK\x03\x04....readme.txt"), FileKind::Zip);
        assert_eq!(sniff(b"hello"), FileKind::Unknown);
        assert!(FileKind::Pdf.is("pdf", "监测报告.PDF"));
        assert!(!FileKind::Executable.is("pdf", "监测报告.pdf"));
        assert!(FileKind::Ole2.is("doc", "申请表.doc") && !FileKind::Ole2.is("doc", "台账.xls"));
        for k in [FileKind::Pdf, FileKind::Docx, FileKind::Executable] {
            assert_eq!(FileKind::from_code(k.code()), k);
        }
    }
}
