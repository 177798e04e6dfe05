//! Two-party signing over HTTP (seed 002): a person submits and signs the form with an SMS code,
//! the employer named in it finds it under 申请事项单位确认 and seals it with its certificate,
//! and the signed PDF verifies with both signatures in order; on both engines.
use std::sync::Arc;

use axum::http::StatusCode;
use base64::Engine as _;
use tongban_identity::sms::{self, RecordingSms};
use tongban_jobs::Scheduler;
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::*;

const EMPLOYER: &str = "91310115MA1FL8XQ34";
const OTHER: &str = "91310112MA1GB2Y75L";

fn id_number() -> String {
    tongban_domain::id_number::IdNumber::complete("31010419900307123")
        .unwrap()
        .as_str()
        .to_string()
}

/// The value of the first `<code id="{id}">` on the page.
fn code_text(page: &Page, id: &str) -> String {
    page.body
        .split(&format!("<code id=\"{id}\">"))
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or_else(|| panic!("no code {id}: {}", page.body))
        .to_string()
}

fn hidden(page: &Page, name: &str) -> String {
    page.body
        .split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no hidden {name}: {}", page.body))
        .to_string()
}

store_test!(
    a_person_signs_by_sms_code_then_the_employer_seals_with_its_certificate,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = with_item(
            state(&db, dir.path()),
            include_str!("../../cases/tests/fixtures/two-party.toml"),
        );
        let app = tongban_web::app(state.clone());

        // The person registers, applies and submits.
        let mut person = Browser::new(&app);
        let registered = person.post_form("/register/individual", &format!("name=%E7%8E%8B%E7%8F%BA&id_number={}&phone=13912345678&password=Huanbao2026&password_again=Huanbao2026", id_number())).await;
        assert_eq!(
            registered.status,
            StatusCode::SEE_OTHER,
            "{}",
            registered.body
        );
        let started = through_the_notice_of(&mut person, "test-two-party").await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        let id = case_id_of(&started);
        let submitted = person
            .post_form(
                &format!("/cases/{id}/edit"),
                &format!("_step=basic&_action=submit&f.person_name=%E7%8E%8B%E7%8F%BA&f.category=%E9%A1%B9%E7%9B%AE%E8%B4%9F%E8%B4%A3%E4%BA%BA&f.employer_name=%E4%B8%8A%E6%B5%B7%E7%A4%BA%E8%8C%83%E5%BB%BA%E8%AE%BE&f.employer_code={EMPLOYER}"),
            )
            .await;
        assert_eq!(
            submitted.status,
            StatusCode::SEE_OTHER,
            "{}",
            submitted.body
        );
        let detail = person.get(&location(&submitted)).await;
        assert!(
            detail.body.contains(&format!("/cases/{id}/signing")),
            "the case page links to 签章"
        );

        // The employer cannot sign first; another enterprise cannot see it at all.
        let mut city = officer_browser(&db, &app, "shi.shouli", "310000", "市局受理员").await;
        let (mut employer, _, employer_key, employer_pem) =
            primary(&state, &app, &mut city, EMPLOYER).await;
        let early = employer.get(&format!("/cases/{id}/signing")).await;
        assert_eq!(early.status, StatusCode::OK);
        assert!(
            early.body.contains("等待「申请人（签名）」签章"),
            "{}",
            early.body
        );
        assert!(!early.body.contains("生成待签摘要"));
        assert!(
            !employer.get("/enterprise/signing").await.body.contains(&id),
            "not listed before the person signed"
        );
        let mut other = logged_in(&state, &app, OTHER).await;
        assert_eq!(
            other.get(&format!("/cases/{id}/signing")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            other
                .get(&format!("/cases/{id}/signing/document"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );

        // The person asks for a code, types a wrong one, then the right one.
        let page = person.get(&format!("/cases/{id}/signing")).await;
        assert!(page.body.contains("获取短信验证码") && page.body.contains("139****5678"));
        let sent = person
            .post_form(&format!("/cases/{id}/signing/code"), "")
            .await;
        assert!(
            sent.body.contains("验证码已发送至 139****5678"),
            "{}",
            sent.body
        );
        let peer = RecordingSms::default();
        let scheduler = Scheduler::builder(db.store.clone())
            .on(
                sms::JOB_KIND,
                sms::handler(state.fields.clone(), Arc::new(peer.clone())),
            )
            .build();
        assert_eq!(scheduler.run_due().await.unwrap().succeeded, 1);
        let text = peer.0.lock().unwrap()[0].1.clone();
        assert!(text.contains("申请表签名"), "{text}");
        let code: String = text
            .chars()
            .filter(|c| c.is_ascii_digit())
            .take(6)
            .collect();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let refused = person
            .post_form(
                &format!("/cases/{id}/signing/confirm"),
                &format!("code={wrong}"),
            )
            .await;
        assert!(
            refused.body.contains("验证码错误，请重新输入"),
            "{}",
            refused.body
        );
        let signed = person
            .post_form(
                &format!("/cases/{id}/signing/confirm"),
                &format!("code={code}"),
            )
            .await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
        let after = person.get(&location(&signed)).await;
        assert!(after.body.contains("签章成功"));
        assert!(
            after.body.contains("已签章（王珺，短信验证码"),
            "{}",
            after.body
        );
        assert!(after.body.contains("等待「聘用单位（盖章）」签章"));

        // The employer finds it in its list and signs the digest with its certificate.
        let list = employer.get("/enterprise/signing").await;
        assert!(
            list.body.contains(&id) && list.body.contains("王珺"),
            "{}",
            list.body
        );
        let form = employer.get(&format!("/cases/{id}/signing")).await;
        assert!(form.body.contains("生成待签摘要"), "{}", form.body);
        // A certificate other than the one logged in with is refused.
        let (_, other_pem) = issue(&state, EMPLOYER, "上海示范建设");
        let wrong_cert = employer
            .post_form(
                &format!("/cases/{id}/signing/prepare"),
                &format!("certificate={}", urlencode(&other_pem)),
            )
            .await;
        assert!(wrong_cert.body.contains("请使用登录本系统的数字证书签章"));
        let prepared = employer
            .post_form(
                &format!("/cases/{id}/signing/prepare"),
                &format!("certificate={}", urlencode(&employer_pem)),
            )
            .await;
        let digest = code_text(&prepared, "digest");
        let pending = hidden(&prepared, "pending");
        let signature = base64::engine::general_purpose::STANDARD
            .encode(employer_key.sign(&hex::decode(&digest).unwrap()));
        let done = employer
            .post_form(
                &format!("/cases/{id}/signing/finish"),
                &format!("pending={pending}&signature={}", urlencode(&signature)),
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let complete = employer.get(&location(&done)).await;
        assert!(
            complete.body.contains("全部签章已完成"),
            "{}",
            complete.body
        );
        assert!(!employer.get("/enterprise/signing").await.body.contains(&id));

        // The person downloads the signed form: two signatures, in order, intact.
        let pdf = person.get(&format!("/cases/{id}/signing/document")).await;
        assert_eq!(pdf.status, StatusCode::OK);
        assert_eq!(
            pdf.headers[axum::http::header::CONTENT_TYPE],
            "application/pdf"
        );
        let check = tongban_documents::signature::verify(&pdf.bytes).unwrap();
        assert!(check.intact());
        let signers: Vec<(&str, &str)> = check
            .signatures
            .iter()
            .map(|s| (s.role.as_str(), s.name.as_str()))
            .collect();
        assert_eq!(
            signers,
            [
                ("applicant", "王珺"),
                ("employer", "企业91310115MA1FL8XQ34")
            ],
            "the employer seals under its certificate's name"
        );
        let text = tongban_documents::testing::text_of(&pdf.bytes);
        assert!(text.contains("测试人员考核发证申请表") && text.contains("项目负责人"));
    }
);
