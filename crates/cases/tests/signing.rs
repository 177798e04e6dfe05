//! Signing a submitted case's form in the order its item names (the person by SMS code, then the
//! employer with its certificate), and the bureau sealing a letter on a case, on both engines.
use std::sync::Arc;
use std::time::Duration;

use tongban_cases::issuing::{self, Bureau, LetterRequest, Trust, Verdict};
use tongban_cases::signing::{self, Caller, SigningError};
use tongban_cases::{Applicant, CaseError, start, submit, timeline};
use tongban_crypto::Sm2KeyPair;
use tongban_crypto::cert::{Ca, Holder};
use tongban_documents::testing::text_of;
use tongban_documents::{DocumentKind, Letter, Renderer, signature};
use tongban_domain::EnterpriseId;
use tongban_engine::case::EventBody;
use tongban_engine::{FormData, Item};
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::file_store;

const EMPLOYER: &str = "91310115MA1FL8XQ34";
const OTHER: &str = "91310112MA1GB2Y75L";

fn item() -> Item {
    Item::load(
        include_str!("fixtures/two-party.toml"),
        &tongban_items::rules(),
    )
    .unwrap()
}

fn person() -> Caller {
    Caller {
        applicant: Applicant::Individual {
            id: "0192f0aa-7c1e-7000-8000-00000000a001".into(),
        },
        credit_code: None,
    }
}

fn enterprise(code: &str) -> Caller {
    Caller {
        applicant: Applicant::Enterprise {
            id: EnterpriseId::from_raw(format!("ent-{code}")),
            actor: format!("enterprise:{code}/cert:01"),
        },
        credit_code: Some(code.into()),
    }
}

struct Employer {
    key: Sm2KeyPair,
    pem: String,
}

fn employer_certificate(ca: &Ca) -> Employer {
    let key = Sm2KeyPair::generate();
    let pem = ca
        .issue(
            &Holder::Enterprise {
                name: "上海示范建设有限公司".into(),
                credit_code: EMPLOYER.into(),
            },
            &key.public_key(),
            Duration::from_secs(3600),
        )
        .unwrap();
    Employer { key, pem }
}

async fn employer_prepares(
    store: &tongban_store::Store,
    files: &tongban_files::FileStore,
    renderer: &Arc<Renderer>,
    ca: &Ca,
    id: &str,
    certificate_pem: &str,
) -> Result<signing::Pending, SigningError> {
    let desk = signing::Desk {
        store,
        files,
        renderer,
        ca,
    };
    signing::prepare(&desk, &item(), &enterprise(EMPLOYER), id, certificate_pem).await
}

async fn employer_finishes(
    store: &tongban_store::Store,
    files: &tongban_files::FileStore,
    id: &str,
    pending: &str,
    signature: &[u8],
) -> Result<signing::Status, SigningError> {
    signing::finish(
        store,
        files,
        &item(),
        &enterprise(EMPLOYER),
        id,
        pending,
        signature,
    )
    .await
}

/// The person signs, the SMS code having been checked.
async fn person_signs(
    store: &tongban_store::Store,
    files: &tongban_files::FileStore,
    renderer: &Arc<Renderer>,
    ca: &Ca,
    id: &str,
) -> Result<signing::Status, SigningError> {
    let desk = signing::Desk {
        store,
        files,
        renderer,
        ca,
    };
    signing::sign_confirmed(&desk, &item(), &person(), id, "王𡒄").await
}

async fn submitted(store: &tongban_store::Store, item: &Item, employer_code: &str) -> String {
    let me = person().applicant;
    let known = [("individual.name".to_string(), "王𡒄".to_string())].into();
    let id = start(store, item, &me, &known).await.unwrap();
    let mut data = FormData::default();
    for (k, v) in [
        ("person_name", "王𡒄"),
        ("category", "项目负责人"),
        ("employer_name", "上海示范建设有限公司"),
        ("employer_code", employer_code),
    ] {
        data.set(k, v);
    }
    submit(store, item, &me, &id, &data).await.unwrap();
    id
}

store_test!(
    the_person_signs_first_then_the_employer,
    |db: TestStore| async move {
        let item = item();
        let dir = tempfile::tempdir().unwrap();
        let files = file_store(dir.path());
        let renderer = Arc::new(Renderer::new());
        let ca = Ca::create("通办测试CA", Duration::from_secs(3600)).unwrap();
        let employer = employer_certificate(&ca);
        let id = submitted(&db.store, &item, EMPLOYER).await;

        // An enterprise the form does not name cannot see the case at all.
        let err = signing::open(&db.store, &item, &enterprise(OTHER), &id)
            .await
            .unwrap_err();
        assert!(
            matches!(err, SigningError::Case(CaseError::NotFound)),
            "{err}"
        );

        // The employer may not sign before the person.
        let err = employer_prepares(&db.store, &files, &renderer, &ca, &id, &employer.pem)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "现在不是您签章的时候：请等待「申请人（签名）」先签章"
        );

        // The person signs (the SMS code was checked by the caller).
        let status = person_signs(&db.store, &files, &renderer, &ca, &id)
            .await
            .unwrap();
        assert_eq!(status.parties[0].1.as_ref().unwrap().method, "短信验证码");
        assert_eq!(status.next().unwrap().role, "employer");
        assert!(status.my_turn().is_none(), "the person's part is done");

        // The employer's home page now lists it.
        let asked = tongban_store::signatures::requests_for(&db.store, EMPLOYER)
            .await
            .unwrap();
        assert_eq!(asked.len(), 1);
        assert_eq!(
            (asked[0].0.as_str(), asked[0].1.as_str()),
            (id.as_str(), "employer")
        );

        // A signature by another key is refused and nothing is recorded.
        let pending = employer_prepares(&db.store, &files, &renderer, &ca, &id, &employer.pem)
            .await
            .unwrap();
        assert_eq!(pending.digest.len(), 64);
        let wrong = Sm2KeyPair::generate().sign(&hex::decode(&pending.digest).unwrap());
        let err = employer_finishes(&db.store, &files, &id, &pending.id, &wrong)
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "签名值无效：不是该证书对本文件摘要的签名");

        // A certificate of another enterprise cannot sign for the employer.
        let stranger = Sm2KeyPair::generate();
        let stranger_pem = ca
            .issue(
                &Holder::Enterprise {
                    name: "上海别家有限公司".into(),
                    credit_code: OTHER.into(),
                },
                &stranger.public_key(),
                Duration::from_secs(3600),
            )
            .unwrap();
        let err = employer_prepares(&db.store, &files, &renderer, &ca, &id, &stranger_pem)
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "数字证书无效：该证书不属于本单位");

        // The certificate's own signature over the digest completes the form.
        let good = employer.key.sign(&hex::decode(&pending.digest).unwrap());
        let status = employer_finishes(&db.store, &files, &id, &pending.id, &good)
            .await
            .unwrap();
        assert!(status.complete());
        assert!(
            tongban_store::signatures::requests_for(&db.store, EMPLOYER)
                .await
                .unwrap()
                .is_empty()
        );
        // The same pending signature cannot be used twice.
        let again = employer_finishes(&db.store, &files, &id, &pending.id, &good)
            .await
            .unwrap_err();
        assert!(matches!(again, SigningError::Complete), "{again}");

        // The signed PDF: both signatures in order, intact, traced to the person and the employer.
        let (case, status) = signing::open(&db.store, &item, &person(), &id)
            .await
            .unwrap();
        let pdf = signing::current_pdf(&db.store, &files, &renderer, &item, &case, &status)
            .await
            .unwrap();
        // Kept for a person to look at (the session notes' evidence).
        std::fs::write(
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("two-party-signed.pdf"),
            &pdf,
        )
        .unwrap();
        let check = signature::verify(&pdf).unwrap();
        let roles: Vec<&str> = check.signatures.iter().map(|s| s.role.as_str()).collect();
        assert_eq!(roles, ["applicant", "employer"]);
        let bureau = Sm2KeyPair::generate().public_key();
        let trusts: Vec<Trust> = check
            .signatures
            .iter()
            .map(|s| issuing::trust_of(s, &bureau, &ca))
            .collect();
        assert_eq!(Verdict::of(&check, &trusts), Verdict::Intact);
        assert_eq!(trusts[0].label(), "数字证书（王𡒄，短信验证码确认）");
        assert_eq!(
            trusts[1].label(),
            format!("数字证书（上海示范建设有限公司，{EMPLOYER}）")
        );
        let text = text_of(&pdf);
        for s in [
            "测试人员考核发证申请表",
            "申请人（签名）",
            "聘用单位（盖章）",
            "王𡒄",
            "项目负责人",
            EMPLOYER,
        ] {
            assert!(text.contains(s), "the signed form lacks 「{s}」:\n{text}");
        }

        // Each signature is a case event, naming the signed file.
        let events = timeline(&db.store, &person().applicant, &id).await.unwrap();
        let signed: Vec<(String, String)> = events
            .iter()
            .filter_map(|e| match &e.body {
                EventBody::DocumentSigned { role, file, .. } => Some((role.clone(), file.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(signed.len(), 2);
        assert_eq!(signed[1].1, signature::file_digest(&pdf));
    }
);

store_test!(
    a_signature_waits_only_so_long_and_only_for_its_signer,
    |db: TestStore| async move {
        let item = item();
        let dir = tempfile::tempdir().unwrap();
        let files = file_store(dir.path());
        let renderer = Arc::new(Renderer::new());
        let ca = Ca::create("通办测试CA", Duration::from_secs(3600)).unwrap();
        let employer = employer_certificate(&ca);
        let id = submitted(&db.store, &item, EMPLOYER).await;
        person_signs(&db.store, &files, &renderer, &ca, &id)
            .await
            .unwrap();
        // The person cannot sign twice.
        let err = person_signs(&db.store, &files, &renderer, &ca, &id)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "现在不是您签章的时候：请等待「聘用单位（盖章）」先签章"
        );
        let pending = employer_prepares(&db.store, &files, &renderer, &ca, &id, &employer.pem)
            .await
            .unwrap();
        // Past its time the prepared file is gone: the employer prepares again.
        let mut tx = db.store.begin().await.unwrap();
        let later =
            tongban_domain::Timestamp::now().after(signing::PENDING_FOR + Duration::from_secs(1));
        assert_eq!(
            tongban_store::signatures::purge_pending(&mut tx, later)
                .await
                .unwrap(),
            1
        );
        tx.commit().await.unwrap();
        let good = employer.key.sign(&hex::decode(&pending.digest).unwrap());
        let err = employer_finishes(&db.store, &files, &id, &pending.id, &good)
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "签章已过期或已完成，请重新签章");
    }
);

store_test!(
    the_bureau_seals_a_decision_as_a_case_event,
    |db: TestStore| async move {
        let item = item();
        let dir = tempfile::tempdir().unwrap();
        let files = file_store(dir.path());
        let renderer = Arc::new(Renderer::new());
        let bureau = Arc::new(Bureau {
            name: issuing::BUREAU.into(),
            seal: Sm2KeyPair::generate(),
            base_url: "http://127.0.0.1:8080".into(),
            renderer: renderer.clone(),
        });
        let ca = Ca::create("通办测试CA", Duration::from_secs(3600)).unwrap();
        let id = submitted(&db.store, &item, EMPLOYER).await;
        let letter = Letter {
            issuer: issuing::BUREAU.into(),
            number: "沪环许〔2026〕88号".into(),
            title: "关于王𡒄考核发证申请的批复".into(),
            addressee: "王𡒄".into(),
            paragraphs: vec!["你提交的考核发证申请收悉。经审查，符合规定，准予许可。".into()],
            items: vec![],
            closing: Some("特此批复。".into()),
            date: "2026年12月1日".into(),
            contact: None,
            qr: false,
        };
        let row = issuing::seal_letter(
            &db.store,
            &files,
            &bureau,
            LetterRequest {
                kind: DocumentKind::Decision,
                letter,
                case_id: id.clone(),
                officer: "officer:pd.shenpi".into(),
            },
        )
        .await
        .unwrap();
        let events = timeline(&db.store, &person().applicant, &id).await.unwrap();
        let last = events.last().unwrap();
        assert_eq!(last.actor, "officer:pd.shenpi");
        assert!(matches!(
            &last.body,
            EventBody::DocumentSealed { number, document_id, .. }
                if number == "沪环许〔2026〕88号" && *document_id == row.id
        ));
        let digest: tongban_crypto::Sm3Digest = row.file_digest.parse().unwrap();
        let pdf = files.get(&digest).await.unwrap();
        let check = signature::verify(&pdf).unwrap();
        let trusts: Vec<Trust> = check
            .signatures
            .iter()
            .map(|s| issuing::trust_of(s, &bureau.public_key(), &ca))
            .collect();
        assert_eq!(trusts, [Trust::BureauSeal]);
        assert_eq!(Verdict::of(&check, &trusts), Verdict::Intact);
        assert!(text_of(&pdf).contains("特此批复"));
        std::fs::write(
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("sealed-decision.pdf"),
            &pdf,
        )
        .unwrap();
    }
);
