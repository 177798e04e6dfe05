//! Checking an uploaded material against its spec: not empty, not too large, and of an allowed
//! type judged by content. Messages name the material.
use tongban_domain::file_kind::{FileKind, sniff};

use crate::item::Material;
use crate::spec::DEFAULT_MAX_BYTES;

/// Types an applicant-added material (“+”) may have, and its size limit.
pub const EXTRA_TYPES: [&str; 5] = ["pdf", "jpg", "png", "doc", "docx"];
pub const EXTRA_MAX_BYTES: u64 = DEFAULT_MAX_BYTES;

fn size_label(bytes: u64) -> String {
    if bytes.is_multiple_of(1024 * 1024) {
        format!("{}MB", bytes / (1024 * 1024))
    } else {
        format!("{}KB", bytes.div_ceil(1024))
    }
}

/// Checks one file for the material called `name` that takes `types` up to `max_bytes`.
pub fn check_file(
    name: &str,
    types: &[String],
    max_bytes: u64,
    file_name: &str,
    bytes: &[u8],
) -> Result<FileKind, String> {
    if bytes.is_empty() {
        return Err(format!("{name}：文件为空，请重新选择"));
    }
    if bytes.len() as u64 > max_bytes {
        return Err(format!("{name}：文件大小不能超过{}", size_label(max_bytes)));
    }
    let kind = sniff(bytes);
    if kind == FileKind::Executable {
        return Err(format!("{name}：文件内容为可执行程序，不能上传"));
    }
    if !types.iter().any(|t| kind.is(t, file_name)) {
        return Err(format!(
            "{name}：文件内容不是允许的格式（{}），请勿仅修改文件扩展名",
            types.join("、")
        ));
    }
    Ok(kind)
}

/// Checks a file for material `m`.
pub fn check(m: &Material, file_name: &str, bytes: &[u8]) -> Result<FileKind, String> {
    check_file(&m.name, &m.types, m.max_bytes, file_name, bytes)
}

/// Checks a file the applicant added under their own `name`.
pub fn check_extra(name: &str, file_name: &str, bytes: &[u8]) -> Result<FileKind, String> {
    let types: Vec<String> = EXTRA_TYPES.iter().map(|t| t.to_string()).collect();
    check_file(name, &types, EXTRA_MAX_BYTES, file_name, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types() -> Vec<String> {
        vec!["pdf".into(), "jpg".into()]
    }

    #[test]
    fn a_pdf_named_file_that_is_a_program_is_refused() {
        let exe = b"MZ\x90\x00this program cannot be run in DOS mode";
        assert_eq!(
            check_file("监测报告", &types(), 1024, "监测报告.pdf", exe),
            Err("监测报告：文件内容为可执行程序，不能上传".into())
        );
        let text = b"just text";
        assert!(
            check_file("监测报告", &types(), 1024, "监测报告.pdf", text)
                .unwrap_err()
                .contains("请勿仅修改文件扩展名")
        );
        assert_eq!(
            check_file("监测报告", &types(), 1024, "scan.jpg", b"%PDF-1.4"),
            Ok(FileKind::Pdf),
            "a PDF is a PDF whatever its name"
        );
    }

    #[test]
    fn the_limit_is_exact() {
        let limit = DEFAULT_MAX_BYTES;
        let mut pdf = b"%PDF-1.4\n".to_vec();
        pdf.resize(limit as usize, b' ');
        assert!(check_file("报告", &types(), limit, "a.pdf", &pdf).is_ok());
        pdf.push(b' ');
        assert_eq!(
            check_file("报告", &types(), limit, "a.pdf", &pdf),
            Err("报告：文件大小不能超过10MB".into())
        );
        assert!(
            check_file("报告", &types(), limit, "a.pdf", b"")
                .unwrap_err()
                .contains("为空")
        );
    }
}
