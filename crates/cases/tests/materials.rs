//! 申请材料 on the demonstration item, on both engines: content checks, the size limit, extra
//! materials, replacement, ownership and the submission check.
use bytes::Bytes;
use tongban_cases::materials::{Target, attach, download, list, remove};
use tongban_cases::{CaseError, open, start, submit};
use tongban_engine::FormData;
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::{enterprise, file_store, item};

fn pdf(size: usize) -> Bytes {
    let mut b = b"%PDF-1.7\n".to_vec();
    b.resize(size, b' ');
    Bytes::from(b)
}

fn complete(mut d: FormData) -> FormData {
    for (k, v) in [
        ("year", "2026"),
        ("unit_name", "示范医院"),
        ("credit_code", "91310115MA1FL8XQ34"),
        ("registered_address", "上海市浦东新区示范路1号"),
        ("legal_person", "张三"),
        ("contact_phone", "13912345678"),
        ("licence_no", "沪环辐证[12345]"),
        ("issued_on", "2024-01-01"),
        ("valid_until", "2029-01-01"),
        ("sales_only", "是"),
        ("high_risk", "否"),
        ("device_count", "2"),
        ("uses_accelerator", "否"),
        ("staff_count", "12"),
        ("monitoring_per_year", "2"),
    ] {
        d.set(k, v);
    }
    d.set_many("source_activities", vec!["使用".into()]);
    d.set("source_count", "1");
    d
}

fn messages(e: CaseError) -> String {
    match e {
        CaseError::Invalid(p) => p
            .iter()
            .map(|p| p.message.clone())
            .collect::<Vec<_>>()
            .join("|"),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

store_test!(
    materials_are_checked_by_content_and_size_and_kept_per_case,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let files = file_store(dir.path());
        let (item, me) = (item(), enterprise(1));
        let id = start(&db.store, &item, &me, &Default::default())
            .await
            .unwrap();
        let report = Target::Material("monitoring_report");

        // An executable renamed to .pdf, and a file one byte over 10 MB, are refused.
        let exe = Bytes::from_static(
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00 This program cannot be run in DOS mode",
        );
        let e = attach(
            &db.store,
            &files,
            &item,
            &me,
            &id,
            Target::Material("monitoring_report"),
            "监测报告.pdf",
            exe,
        )
        .await
        .unwrap_err();
        assert_eq!(
            messages(e),
            "辐射安全与防护年度监测报告：文件内容为可执行程序，不能上传"
        );
        let big = pdf(10 * 1024 * 1024 + 1);
        let e = attach(
            &db.store,
            &files,
            &item,
            &me,
            &id,
            Target::Material("monitoring_report"),
            "big.pdf",
            big,
        )
        .await
        .unwrap_err();
        assert_eq!(
            messages(e),
            "辐射安全与防护年度监测报告：文件大小不能超过10MB"
        );
        let exactly = pdf(10 * 1024 * 1024);
        attach(
            &db.store,
            &files,
            &item,
            &me,
            &id,
            Target::Material("monitoring_report"),
            "全年.pdf",
            exactly,
        )
        .await
        .unwrap();
        attach(
            &db.store,
            &files,
            &item,
            &me,
            &id,
            report,
            "结论页.pdf",
            pdf(2000),
        )
        .await
        .unwrap();
        assert_eq!(
            list(&db.store, &me, &id).await.unwrap().len(),
            2,
            "several files allowed"
        );

        // A single-file material is replaced; an extra one takes the applicant's name.
        let licence = |n: &'static str| Target::Material(n);
        attach(
            &db.store,
            &files,
            &item,
            &me,
            &id,
            licence("licence_copy"),
            "旧.pdf",
            pdf(100),
        )
        .await
        .unwrap();
        attach(
            &db.store,
            &files,
            &item,
            &me,
            &id,
            licence("licence_copy"),
            "新.pdf",
            pdf(200),
        )
        .await
        .unwrap();
        let extra = attach(
            &db.store,
            &files,
            &item,
            &me,
            &id,
            Target::Extra { name: "委托书" },
            "委托书.jpg",
            Bytes::from_static(b"\xFF\xD8\xFF\xE0 jfif"),
        )
        .await
        .unwrap();
        let e = attach(
            &db.store,
            &files,
            &item,
            &me,
            &id,
            Target::Extra { name: " " },
            "x.pdf",
            pdf(10),
        )
        .await
        .unwrap_err();
        assert!(messages(e).contains("材料名称：请填写"));
        let listed = list(&db.store, &me, &id).await.unwrap();
        let names: Vec<_> = listed
            .iter()
            .map(|m| (m.name.as_str(), m.file_name.as_str()))
            .collect();
        assert!(
            names.contains(&("辐射安全许可证副本", "新.pdf"))
                && !names.iter().any(|(_, f)| *f == "旧.pdf")
        );
        assert!(names.contains(&("委托书", "委托书.jpg")));

        // Another enterprise reaches none of it.
        let other = enterprise(2);
        assert!(matches!(
            list(&db.store, &other, &id).await,
            Err(CaseError::NotFound)
        ));
        assert!(matches!(
            download(&db.store, &files, &other, &id, &extra.id).await,
            Err(CaseError::NotFound)
        ));
        assert!(matches!(
            remove(&db.store, &item, &other, &id, &extra.id).await,
            Err(CaseError::NotFound)
        ));
        assert!(matches!(
            attach(
                &db.store,
                &files,
                &item,
                &other,
                &id,
                Target::Extra { name: "x" },
                "x.pdf",
                pdf(10)
            )
            .await,
            Err(CaseError::NotFound)
        ));
        let (file, kind, bytes) = download(&db.store, &files, &me, &id, &extra.id)
            .await
            .unwrap();
        assert_eq!(
            (file.file_name.as_str(), kind.mime()),
            ("委托书.jpg", "image/jpeg")
        );
        assert_eq!(&bytes[..], b"\xFF\xD8\xFF\xE0 jfif");
        remove(&db.store, &item, &me, &id, &extra.id).await.unwrap();
        assert_eq!(list(&db.store, &me, &id).await.unwrap().len(), 3);
    }
);

store_test!(
    a_required_material_must_be_there_to_submit,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let files = file_store(dir.path());
        let (item, me) = (item(), enterprise(1));
        let id = start(&db.store, &item, &me, &Default::default())
            .await
            .unwrap();
        let data = complete(open(&db.store, &me, &id).await.unwrap().projection.data);
        let e = submit(&db.store, &item, &me, &id, &data).await.unwrap_err();
        assert_eq!(messages(e), "辐射安全与防护年度监测报告：请上传");
        attach(
            &db.store,
            &files,
            &item,
            &me,
            &id,
            Target::Material("monitoring_report"),
            "报告.pdf",
            pdf(500),
        )
        .await
        .unwrap();
        submit(&db.store, &item, &me, &id, &data).await.unwrap();
        let late = attach(
            &db.store,
            &files,
            &item,
            &me,
            &id,
            Target::Material("licence_copy"),
            "x.pdf",
            pdf(10),
        )
        .await;
        assert!(
            matches!(late, Err(CaseError::NotDraft)),
            "no files after submission"
        );
    }
);
