//! One filled-in example of every document kind: the demo, the rendering tests, the samples
//! in the docs and the benchmark all print these.
use crate::kinds::*;
use crate::{RenderError, Rendered, Renderer};

const ISSUER: &str = "上海市生态环境局";

fn f(label: &str, value: impl Into<String>) -> Field {
    Field::new(label, value)
}

/// The annual evaluation report of a radiation user (seed 000), about six pages: what the
/// benchmark renders. `n` varies the data so each render is a different document.
pub fn annual_report(n: usize) -> FormDocument {
    let sources = (0..40)
        .map(|i| {
            vec![
                format!("{}", i + 1),
                ["Cs-137", "Co-60", "Ir-192", "Am-241", "Sr-90"][(i + n) % 5].to_string(),
                format!(
                    "{:.2}E+{:02}",
                    1.0 + ((i * 7 + n) % 90) as f64 / 10.0,
                    8 + (i % 4)
                ),
                ["Ⅴ类", "Ⅳ类", "Ⅲ类"][i % 3].to_string(),
                format!("SH{:04}{:05}", 2020 + i % 6, n * 100 + i),
                ["在用", "贮存", "已送贮"][(i + n) % 3].to_string(),
                format!("实验楼{}层{}室", 1 + i % 5, 101 + i),
            ]
        })
        .collect();
    let devices = (0..30)
        .map(|i| {
            vec![
                format!("{}", i + 1),
                [
                    "X射线探伤机",
                    "CT机",
                    "数字减影血管造影装置",
                    "工业CT",
                    "电子直线加速器",
                ][i % 5]
                    .to_string(),
                format!("XG-{}{:03}", ["A", "B", "C"][i % 3], n % 1000 + i),
                ["Ⅱ类", "Ⅲ类"][i % 2].to_string(),
                format!("{} kV / {} mA", 120 + 10 * (i % 8), 2 + i % 5),
                format!("{}机房", 1 + i % 12),
            ]
        })
        .collect();
    let staff = (0..25)
        .map(|i| {
            vec![
                format!("{}", i + 1),
                ["王珺", "李玥", "张喆", "陈堃", "赵昇", "周彧", "吴晞"][(i + n) % 7].to_string(),
                format!("FS{:02}SH{:06}", 20 + i % 6, 100_000 + n * 31 + i),
                format!("202{}-0{}-1{}", i % 6, 1 + i % 9, i % 10),
                format!("{:.2}", 0.12 + ((i * 13 + n) % 80) as f64 / 100.0),
                if (i + n).is_multiple_of(9) {
                    "复查"
                } else {
                    "合格"
                }
                .to_string(),
            ]
        })
        .collect();
    let year = 2025;
    FormDocument {
        title: "放射性同位素与射线装置安全和防护状况年度评估报告".into(),
        subtitle: Some(format!("（{year}年度）")),
        running: Some((
            "上海市生态环境局 · 一网通办".into(),
            format!("办件编号 FZ{year}1123{:05}", n % 100_000),
        )),
        number: Some(format!("FZ-{year}-{:06}", n)),
        holder: vec![
            f(
                "单位名称",
                format!("上海浦东喆堃医疗器械有限公司（第{}分公司）", n % 50 + 1),
            ),
            f("统一社会信用代码", "91310115MA1K4B2X3N"),
            f("注册地址", "上海市浦东新区张江路1399号"),
            f("法定代表人", "陈堃"),
            f("辐射安全许可证号", "沪环辐证〔00123〕"),
            f("安全机构名称", "辐射安全与防护管理小组"),
            f("联系人", "李玥"),
            f("联系电话", "021-5080 1234"),
        ],
        sections: vec![
            Section {
                heading: "一、辐射安全和防护设施的运行与维护".into(),
                fields: vec![
                    f("安全联锁装置", "正常运行，本年度检查12次，无故障"),
                    f("警示标识", "齐全、清晰"),
                    f(
                        "监测仪器",
                        "便携式X-γ剂量率仪2台，个人剂量报警仪8台，均在检定有效期内",
                    ),
                    f("维护记录", "按季度维护，记录完整"),
                ],
                tables: vec![],
            },
            Section {
                heading: "二、放射源台账".into(),
                fields: vec![],
                tables: vec![Table {
                    caption: Some("表1 放射源明细".into()),
                    headers: [
                        "序号",
                        "核素",
                        "出厂活度(Bq)",
                        "类别",
                        "编码",
                        "状态",
                        "场所",
                    ]
                    .map(String::from)
                    .to_vec(),
                    rows: sources,
                }],
            },
            Section {
                heading: "三、射线装置台账".into(),
                fields: vec![],
                tables: vec![Table {
                    caption: Some("表2 射线装置明细".into()),
                    headers: ["序号", "名称", "型号", "类别", "参数", "场所"]
                        .map(String::from)
                        .to_vec(),
                    rows: devices,
                }],
            },
            Section {
                heading: "四、辐射工作人员培训与个人剂量监测".into(),
                fields: vec![f("辐射工作人员总数", "25人"), f("持证上岗人数", "25人")],
                tables: vec![Table {
                    caption: Some("表3 个人剂量监测结果".into()),
                    headers: [
                        "序号",
                        "姓名",
                        "培训证书编号",
                        "发证日期",
                        "年剂量(mSv)",
                        "结论",
                    ]
                    .map(String::from)
                    .to_vec(),
                    rows: staff,
                }],
            },
            Section {
                heading: "五、场所辐射环境监测与事故应急".into(),
                fields: vec![
                    f("监测单位", "上海市辐射环境安全技术中心"),
                    f("监测结论", "各场所周围剂量当量率均低于2.5μSv/h控制水平"),
                    f("应急演练", "2025年6月18日开展放射源丢失应急演练一次"),
                    f("辐射事故", "本年度未发生辐射事故"),
                ],
                tables: vec![],
            },
        ],
        signatures: vec![SignatureBox {
            role: "applicant".into(),
            label: "单位（盖章）".into(),
        }],
        date: Some("2026年1月15日".into()),
    }
}

/// 申请表 that the person signs first and the employer second (seed 002).
pub fn application_form() -> FormDocument {
    FormDocument {
        title: "安全生产管理人员考核发证申请表".into(),
        subtitle: None,
        running: None,
        number: Some("W202406038".into()),
        holder: vec![
            f("姓名", "王珺"),
            f("身份证号码", "310115********1234"),
            f("证书类别", "企业主要负责人（A证）"),
            f("职务", "分管安全生产的副总经理"),
            f("受聘企业", "上海闵行区𡒄垚建设工程有限公司"),
            f("统一社会信用代码", "91310112MA1GBX6T2Q"),
        ],
        sections: vec![Section {
            heading: "申请人承诺".into(),
            fields: vec![f(
                "承诺内容",
                "本人已按照相关法律规定，符合考试报名条件，并合法通过了安管人员初证考试，与上述企业签订真实有效的劳动合同。本人已核对上述内容，对申请表内容及申报材料的真实性负责。",
            )],
            tables: vec![],
        }],
        signatures: vec![
            SignatureBox {
                role: "applicant".into(),
                label: "申请人签名".into(),
            },
            SignatureBox {
                role: "employer".into(),
                label: "聘用企业盖章".into(),
            },
        ],
        date: Some("2026年11月23日".into()),
    }
}

fn letter(title: &str, number: &str, paragraphs: Vec<&str>, items: Vec<&str>) -> Letter {
    Letter {
        issuer: ISSUER.into(),
        number: number.into(),
        title: title.into(),
        addressee: "上海浦东喆堃医疗器械有限公司".into(),
        paragraphs: paragraphs.into_iter().map(String::from).collect(),
        items: items.into_iter().map(String::from).collect(),
        closing: Some("特此通知。".into()),
        date: "2026年11月23日".into(),
        contact: Some("固体废物管理处 李玥 021-2311 1111".into()),
        qr: false,
    }
}

pub fn acceptance_notice() -> Letter {
    letter(
        "受理通知书",
        "沪环固受〔2026〕118号",
        vec![
            "你单位于2026年11月20日提交的《一般固体废物跨省级行政区域贮存、处置审批》申请（办件编号GF202611200001），经审查，申请材料齐全、符合法定形式，根据《中华人民共和国行政许可法》第三十二条的规定，决定予以受理。",
            "本机关将在受理之日起二十个工作日内作出书面决定。办理进度可登录“一网通办”查询。",
        ],
        vec![],
    )
}

pub fn correction_notice() -> Letter {
    letter(
        "补正告知书",
        "沪环固补〔2026〕37号",
        vec![
            "你单位于2026年11月20日提交的《一般固体废物跨省级行政区域贮存、处置审批》申请（办件编号GF202611200001），经审查，申请材料不齐全。请于收到本告知书之日起五个工作日内补正以下材料：",
        ],
        vec![
            "接受地生态环境主管部门同意接收的书面意见（需加盖公章）；",
            "运输单位的道路危险货物运输许可证复印件，有效期须覆盖转移期间；",
            "固体废物属性鉴别报告第3页“检测结果”表中缺少含水率数据，请补充。",
        ],
    )
}

pub fn decision() -> Letter {
    Letter {
        closing: Some("此复。".into()),
        ..letter(
            "关于同意上海浦东喆堃医疗器械有限公司一般固体废物跨省转移处置的批复",
            "沪环固〔2026〕215号",
            vec![
                "你单位《一般固体废物跨省级行政区域贮存、处置审批》申请（办件编号GF202611200001）及相关材料收悉。经审查，并征得江苏省生态环境厅同意，现批复如下：",
                "同意你单位将下列一般工业固体废物转移至江苏省苏州市处置：",
            ],
            vec![
                "废物名称：废包装材料；数量：不超过120吨；",
                "转移期限：自本批复之日起至2027年11月22日；",
                "转移过程中应严格执行转移联单制度，防止遗撒、泄漏。",
            ],
        )
    }
}

pub fn licence() -> Licence {
    Licence {
        title: "辐射安全许可证".into(),
        number: "沪环辐证〔00123〕".into(),
        holder: "上海浦东喆堃医疗器械有限公司".into(),
        fields: vec![
            f("统一社会信用代码", "91310115MA1K4B2X3N"),
            f("地址", "上海市浦东新区张江路1399号"),
            f("法定代表人", "陈堃"),
            f("种类和范围", "使用Ⅴ类放射源；使用Ⅱ类、Ⅲ类射线装置"),
        ],
        valid_from: "2026年11月23日".into(),
        valid_until: "2031年11月22日".into(),
        issuer: ISSUER.into(),
        date: "2026年11月23日".into(),
        note: Some("本证为电子证照，与纸质证照具有同等法律效力。".into()),
        qr: false,
    }
}

pub fn certificate() -> Licence {
    Licence {
        title: "废弃电器电子产品回收证明".into(),
        number: "沪环回证〔2026〕00456".into(),
        holder: "上海闵行区𡒄垚再生资源回收有限公司".into(),
        fields: vec![
            f("统一社会信用代码", "91310112MA1GBX6T2Q"),
            f("回收产品", "电视机、电冰箱、洗衣机、房间空调器、微型计算机"),
            f("回收数量", "12 580 台"),
        ],
        valid_from: "2026年1月1日".into(),
        valid_until: "2026年12月31日".into(),
        issuer: ISSUER.into(),
        date: "2026年11月23日".into(),
        note: None,
        qr: false,
    }
}

/// Every kind rendered, named by kind; licences carry a QR code of a sample address.
pub fn all(renderer: &Renderer) -> Vec<(&'static str, Result<Rendered, RenderError>)> {
    let qr = || crate::qr::svg("https://tongban.example/verify/sample").ok();
    vec![
        (
            DocumentKind::Report.as_str(),
            renderer.render(crate::Template::Form, &annual_report(1), None),
        ),
        (
            DocumentKind::ApplicationForm.as_str(),
            renderer.render(crate::Template::Form, &application_form(), None),
        ),
        (
            DocumentKind::AcceptanceNotice.as_str(),
            renderer.render(crate::Template::Letter, &acceptance_notice(), None),
        ),
        (
            DocumentKind::CorrectionNotice.as_str(),
            renderer.render(crate::Template::Letter, &correction_notice(), None),
        ),
        (
            DocumentKind::Decision.as_str(),
            renderer.render(crate::Template::Letter, &decision(), None),
        ),
        (
            DocumentKind::Licence.as_str(),
            renderer.render(
                crate::Template::Licence,
                &Licence {
                    qr: true,
                    ..licence()
                },
                qr(),
            ),
        ),
        (
            DocumentKind::Certificate.as_str(),
            renderer.render(
                crate::Template::Licence,
                &Licence {
                    qr: true,
                    ..certificate()
                },
                qr(),
            ),
        ),
    ]
}
