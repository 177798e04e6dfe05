//! 核验: a licence's QR page shows the live status (revocation at once), and the PDF check page
//! tells an intact issued file from one altered after sealing — over HTTP, on both engines.
use chrono::NaiveDate;
use tongban_cases::issuing::{self, Issued, LicenceRequest};
use tongban_documents::{DocumentKind, samples};
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::*;

async fn issue(state: &tongban_web::AppState, valid_until: NaiveDate) -> Issued {
    let licence = samples::licence();
    issuing::issue_licence(
        &state.store,
        &state.files,
        &state.bureau,
        LicenceRequest {
            kind: DocumentKind::Licence,
            facts: vec![licence.number.clone(), "91310115MA1K4B2X3N".into()],
            licence,
            issued: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            valid_until: Some(valid_until),
            case_id: None,
        },
    )
    .await
    .unwrap()
}

fn far_future() -> NaiveDate {
    NaiveDate::from_ymd_opt(2099, 12, 31).unwrap()
}

store_test!(
    revoking_a_licence_voids_its_qr_page_at_once,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&db, dir.path());
        let app = tongban_web::app(state.clone());
        let mut phone = Browser::new(&app);
        let issued = issue(&state, far_future()).await;

        let page = phone.get(&format!("/verify/{}", issued.payload)).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains(">有效<"), "{}", page.body);
        assert!(page.body.contains("上海浦东喆堃医疗器械有限公司"));
        assert!(page.body.contains("沪环辐证〔00123〕"));
        assert!(page.body.contains("2099年12月31日"));
        assert_eq!(page.headers["cache-control"], "no-store");

        assert!(
            issuing::revoke(&state.store, &issued.row.id, "许可事项变更，原证收回")
                .await
                .unwrap()
        );
        let page = phone.get(&format!("/verify/{}", issued.payload)).await;
        assert!(page.body.contains(">已失效<"), "{}", page.body);
        assert!(page.body.contains("许可事项变更，原证收回"));
        // A second revocation has nothing to revoke.
        assert!(
            !issuing::revoke(&state.store, &issued.row.id, "再次")
                .await
                .unwrap()
        );
    }
);

store_test!(
    an_expired_licence_reads_as_void_and_a_forged_code_is_refused,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&db, dir.path());
        let app = tongban_web::app(state.clone());
        let mut phone = Browser::new(&app);
        let issued = issue(&state, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).await;
        let page = phone.get(&format!("/verify/{}", issued.payload)).await;
        assert!(
            page.body.contains(">已失效<") && page.body.contains("已过期"),
            "{}",
            page.body
        );

        // One character of the payload changed: the signature no longer holds.
        let mut forged: Vec<char> = issued.payload.chars().collect();
        let i = forged.len() / 3;
        forged[i] = if forged[i] == 'A' { 'B' } else { 'A' };
        let forged: String = forged.into_iter().collect();
        let page = phone.get(&format!("/verify/{forged}")).await;
        assert!(
            page.body.contains("二维码") && page.body.contains("无效"),
            "{}",
            page.body
        );
        assert!(!page.body.contains("上海浦东喆堃医疗器械有限公司"));

        // The public key for offline checks is published.
        let key = phone.get("/verify/public-key.pem").await;
        assert_eq!(
            tongban_crypto::Sm2PublicKey::from_pem(&key.body).unwrap(),
            state.bureau.public_key()
        );
    }
);

store_test!(
    the_pdf_check_page_tells_an_intact_sealed_file_from_an_altered_one,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&db, dir.path());
        let app = tongban_web::app(state.clone());
        let mut b = Browser::new(&app);
        let issued = issue(&state, far_future()).await;

        let page =
            post_multipart(&mut b, "/verify", &[], ("file", "licence.pdf", &issued.pdf)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            page.body.contains("文件完整，全部签章有效"),
            "{}",
            page.body
        );
        assert!(page.body.contains("本局电子印章"));
        assert!(page.body.contains("本局签发的《辐射安全许可证》"));

        let mut altered = issued.pdf.clone();
        let at = altered.len() / 2;
        altered[at] ^= 0x20;
        let page = post_multipart(&mut b, "/verify", &[], ("file", "licence.pdf", &altered)).await;
        assert!(!page.body.contains("文件完整"), "{}", page.body);

        let page = post_multipart(&mut b, "/verify", &[], ("file", "notes.txt", b"hello")).await;
        assert_eq!(page.status, 422);
        assert!(
            page.body.contains("「notes.txt」不是PDF文件"),
            "{}",
            page.body
        );
    }
);
