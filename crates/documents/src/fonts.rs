//! The fonts compiled into the binary (see `fonts/README.md` for their sources and licence), so
//! a fresh machine prints Chinese without installing anything.
use std::sync::LazyLock;

use typst::foundations::Bytes;
use typst::text::{Font, FontBook};

/// Family names the templates ask for.
pub const SERIF: &str = "Noto Serif CJK SC";
pub const FALLBACK: &str = "Tongban Han Fallback";

/// What a character nobody can draw is printed as: 〓 (geta mark), the typesetters' sign for a
/// character the type lacks, so it is visible rather than an empty box.
pub const MISSING_MARK: char = '〓';

static FILES: [&[u8]; 3] = [
    include_bytes!("../fonts/NotoSerifSC-Regular.otf"),
    include_bytes!("../fonts/NotoSerifSC-Bold.otf"),
    include_bytes!("../fonts/TongbanHanFallback-Regular.ttf"),
];

/// Every embedded face, parsed once per process.
pub(crate) static FONTS: LazyLock<Vec<Font>> = LazyLock::new(|| {
    FILES
        .iter()
        .flat_map(|data| Font::iter(Bytes::new(*data)))
        .collect()
});

pub(crate) fn book() -> FontBook {
    FontBook::from_fonts(FONTS.iter())
}

/// Whether some embedded face has a glyph for `c`. Controls and whitespace count as covered:
/// they are never drawn.
pub fn covers(c: char) -> bool {
    c.is_control()
        || c.is_whitespace()
        || FONTS.iter().any(|f| f.info().coverage.contains(c as u32))
}

/// `text` with every character no font can draw replaced by [`MISSING_MARK`], and those
/// characters, so the caller can say which ones were substituted.
pub fn substitute_missing(text: &str, missing: &mut Vec<char>) -> String {
    text.chars()
        .map(|c| {
            if covers(c) {
                c
            } else {
                if !missing.contains(&c) {
                    missing.push(c);
                }
                MISSING_MARK
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_serif_family_has_a_regular_and_a_bold_face() {
        let book = book();
        let faces: Vec<_> = book
            .select_family(&SERIF.to_lowercase())
            .filter_map(|i| book.info(i))
            .map(|info| info.variant.weight.to_number())
            .collect();
        assert!(faces.contains(&400), "{faces:?}");
        assert!(faces.contains(&700), "{faces:?}");
    }

    #[test]
    fn an_uncovered_character_is_marked_and_reported() {
        let mut missing = Vec::new();
        // U+E000 is in the private use area: no font maps it.
        let out = substitute_missing("张\u{E000}三", &mut missing);
        assert_eq!(out, "张〓三");
        assert_eq!(missing, vec!['\u{E000}']);
    }
}
