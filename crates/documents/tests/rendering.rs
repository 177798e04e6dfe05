//! Every document kind renders to a PDF whose text (read back by poppler's `pdftotext`, as
//! a user's viewer or a search engine would) holds what the document must say.
use tongban_documents::fonts::{self, MISSING_MARK};
use tongban_documents::{Field, Licence, Renderer, Template, samples};

use tongban_documents::testing::text_of;

fn assert_says(kind: &str, text: &str, expected: &[&str]) {
    // A title may wrap onto a second line.
    let joined = text.replace('\n', "");
    for s in expected {
        assert!(
            text.contains(s) || joined.contains(s),
            "{kind}: the PDF text lacks 「{s}」:\n{text}"
        );
    }
}

#[test]
fn every_kind_prints_its_chinese_text() {
    let renderer = Renderer::new();
    for (kind, rendered) in samples::all(&renderer) {
        let rendered = rendered.unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert!(rendered.pdf.starts_with(b"%PDF-"), "{kind}");
        assert!(
            rendered.substituted.is_empty(),
            "{kind}: {:?}",
            rendered.substituted
        );
        let text = text_of(&rendered.pdf);
        let expected: &[&str] = match kind {
            "report" => &[
                "放射性同位素与射线装置安全和防护状况年度评估报告",
                "上海浦东喆堃医疗器械有限公司",
                "表1放射源明细",
                "Cs-137",
                "五、场所辐射环境监测与事故应急",
                "单位（盖章）",
                "—1—",
                "—5—",
            ],
            "application_form" => &[
                "安全生产管理人员考核发证申请表",
                "申请人签名",
                "聘用企业盖章",
                "上海闵行区𡒄垚建设工程有限公司",
            ],
            "acceptance_notice" => &[
                "上海市生态环境局",
                "受理通知书",
                "沪环固受〔2026〕118号",
                "决定予以受理",
                "2026年11月23日",
            ],
            "correction_notice" => &[
                "补正告知书",
                "1.接受地生态环境主管部门同意接收的书面意见",
                "3.固体废物属性鉴别报告",
            ],
            "decision" => &[
                "沪环固〔2026〕215号",
                "一般固体废物跨省转移处置的批复",
                "此复。",
            ],
            "licence" => &[
                "辐射安全许可证",
                "证书编号：沪环辐证〔00123〕",
                "2026年11月23日至2031年11月22日",
                "扫码核验真伪及状态",
            ],
            "certificate" => &[
                "废弃电器电子产品回收证明",
                "上海闵行区𡒄垚再生资源回收有限公司",
            ],
            other => panic!("no expectations for {other}"),
        };
        assert_says(kind, &text, expected);
    }
}

#[test]
fn the_annual_report_runs_to_several_pages_with_the_ledger_header_on_each() {
    let rendered = Renderer::new()
        .render(Template::Form, &samples::annual_report(7), None)
        .unwrap();
    assert!(rendered.pages >= 4, "{} pages", rendered.pages);
    let text = text_of(&rendered.pdf);
    // A table that breaks across pages repeats its header row.
    assert!(text.matches("出厂活度(Bq)").count() >= 2, "{text}");
}

fn name_chars() -> Vec<char> {
    include_str!("data/name-chars.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.chars().next())
        .collect()
}

#[test]
fn every_name_character_has_a_glyph_in_the_embedded_fonts() {
    let chars = name_chars();
    assert!(chars.len() >= 30, "{}", chars.len());
    let missing: Vec<char> = chars
        .iter()
        .copied()
        .filter(|c| !fonts::covers(*c))
        .collect();
    assert!(missing.is_empty(), "no glyph for {missing:?}");
}

#[test]
fn a_licence_for_a_holder_with_rare_characters_prints_every_one() {
    let chars: String = name_chars().into_iter().collect();
    let licence = Licence {
        holder: format!("上海{chars}有限公司"),
        fields: vec![Field::new("法定代表人", chars.clone())],
        ..samples::licence()
    };
    let rendered = Renderer::new()
        .render(Template::Licence, &licence, None)
        .unwrap();
    assert!(
        rendered.substituted.is_empty(),
        "{:?}",
        rendered.substituted
    );
    let text = text_of(&rendered.pdf);
    for c in chars.chars() {
        assert!(
            text.contains(c),
            "{c} (U+{:X}) is not in the PDF text",
            c as u32
        );
    }
    assert!(!text.contains(MISSING_MARK));
}

#[test]
fn a_character_no_font_has_prints_as_a_visible_mark_and_is_reported() {
    let licence = Licence {
        holder: "上海\u{E123}科技有限公司".into(),
        ..samples::licence()
    };
    let rendered = Renderer::new()
        .render(Template::Licence, &licence, None)
        .unwrap();
    assert_eq!(rendered.substituted, vec!['\u{E123}']);
    assert!(text_of(&rendered.pdf).contains("上海〓科技有限公司"));
}

#[test]
fn the_same_data_renders_the_same_bytes() {
    let renderer = Renderer::new();
    let a = renderer
        .render(Template::Letter, &samples::decision(), None)
        .unwrap();
    let b = renderer
        .render(Template::Letter, &samples::decision(), None)
        .unwrap();
    assert_eq!(a.pdf, b.pdf);
}

#[test]
fn templates_reserve_the_signature_places_on_the_page() {
    let renderer = Renderer::new();
    let form = renderer
        .render(Template::Form, &samples::application_form(), None)
        .unwrap();
    let roles: Vec<&str> = form.slots.iter().map(|s| s.role.as_str()).collect();
    assert_eq!(roles, ["applicant", "employer"]);
    let decision = renderer
        .render(Template::Letter, &samples::decision(), None)
        .unwrap();
    let issuer = &decision.slots[0];
    assert_eq!(issuer.role, "issuer");
    // On the page (A4 is 595 × 842 pt), in the lower right where the issuing body signs.
    assert!(
        issuer.x > 595.0 / 2.0 && issuer.x + issuer.width < 595.0,
        "{issuer:?}"
    );
    assert!(
        issuer.y > 0.0 && issuer.y + issuer.height < 842.0 / 2.0 + 100.0,
        "{issuer:?}"
    );
}
