//! Enterprise identity on both engines: certificate login, the primary-certificate activation
//! request and its review, and secondary certificates limited to some services.
use std::time::Duration;

use bytes::Bytes;
use tongban_crypto::Sm2KeyPair;
use tongban_crypto::cert::{Ca, Holder};
use tongban_domain::calendar::WorkCalendar;
use tongban_domain::certificate::{ActivationForm, ActivationState, CertificateRole};
use tongban_domain::{Jurisdiction, Officer, OfficerId, OfficerRole, Timestamp};
use tongban_files::{FileStore, FilesConfig};
use tongban_identity::enterprise::{
    self, Activation, EnterpriseError, EnterpriseLogin, enterprise_login, new_challenge, sign_login,
};
use tongban_store::testing::TestStore;
use tongban_store::{activations, store_test};

const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
const HOUR: Duration = Duration::from_secs(3600);
const CODE: &str = "91310115MA1FL8XQ34";

struct World {
    db: TestStore,
    ca: Ca,
    files: FileStore,
    fields: tongban_crypto::FieldCipher,
    calendar: WorkCalendar,
    _dir: tempfile::TempDir,
}

impl World {
    fn new(db: TestStore) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let files = FileStore::open(&FilesConfig::Local {
            dir: dir.path().to_path_buf(),
        })
        .unwrap();
        let keys = [("k1".to_string(), tongban_crypto::field::new_key_hex())].into();
        World {
            db,
            ca: Ca::create("通办测试CA", YEAR).unwrap(),
            files,
            fields: tongban_crypto::FieldCipher::new(
                &keys,
                "k1",
                &tongban_crypto::field::new_key_hex(),
            )
            .unwrap(),
            calendar: WorkCalendar::official(),
            _dir: dir,
        }
    }

    fn activation(&self) -> Activation<'_> {
        Activation {
            store: &self.db.store,
            files: &self.files,
            fields: &self.fields,
            calendar: &self.calendar,
        }
    }

    /// A certificate for the enterprise, as the 一证通 counter would hand it out.
    fn certificate(&self, code: &str) -> (Sm2KeyPair, String) {
        let key = Sm2KeyPair::generate();
        let holder = Holder::Enterprise {
            name: "上海浦江辐射技术有限公司".into(),
            credit_code: code.into(),
        };
        let pem = self.ca.issue(&holder, &key.public_key(), YEAR).unwrap();
        (key, pem)
    }

    async fn login(
        &self,
        key: &Sm2KeyPair,
        pem: &str,
        code: &str,
    ) -> Result<EnterpriseLogin, EnterpriseError> {
        let challenge = new_challenge(&self.db.store).await.unwrap();
        let sig = sign_login(key, &challenge, code);
        enterprise_login(
            &self.db.store,
            &self.ca,
            pem,
            &challenge,
            &sig,
            "127.0.0.1",
            HOUR,
        )
        .await
    }
}

fn form() -> ActivationForm {
    ActivationForm {
        legal_representative: "王珺".into(),
        registration_number: "310115000123456".into(),
        contact: "李静".into(),
        contact_phone: "13816881234".into(),
        media_number: "YZT-2026-000981".into(),
    }
}

fn jpeg(size: usize) -> Bytes {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    b.resize(size, 0x42);
    Bytes::from(b)
}

async fn officer(db: &TestStore) -> Officer {
    let o = Officer {
        id: OfficerId::new(),
        username: "shi.shouli".into(),
        display_name: "市局受理员".into(),
        jurisdiction: Jurisdiction::CITY,
        roles: vec![OfficerRole::Intake],
        created_at: Timestamp::now(),
    };
    let mut tx = db.store.begin().await.unwrap();
    tongban_store::officers::upsert_by_username(&mut tx, &o, "x")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    o
}

store_test!(
    a_first_login_registers_the_enterprise_and_its_certificate,
    |db: TestStore| async move {
        let w = World::new(db);
        let (key, pem) = w.certificate(CODE);
        let login = w.login(&key, &pem, CODE).await.unwrap();
        assert_eq!(login.actor.enterprise.credit_code.as_str(), CODE);
        assert_eq!(
            login.actor.enterprise.district.name, "浦东新区",
            "from the code's division 310115"
        );
        assert_eq!(login.actor.certificate.role, CertificateRole::Unregistered);
        assert!(!login.has_primary);
        let again = enterprise::actor_of_session(&w.db.store, &login.session_secret)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again, login.actor);
        // Logging in again keeps one enterprise and one certificate.
        let second = w.login(&key, &pem, CODE).await.unwrap();
        assert_eq!(second.actor.enterprise.id, login.actor.enterprise.id);
        assert_eq!(
            tongban_store::certificates::of_enterprise(&w.db.store, &login.actor.enterprise.id)
                .await
                .unwrap()
                .len(),
            1
        );
    }
);

store_test!(
    logins_need_our_ca_a_fresh_challenge_and_the_certificates_key,
    |db: TestStore| async move {
        let w = World::new(db);
        let (key, pem) = w.certificate(CODE);

        // A signature by another key.
        let challenge = new_challenge(&w.db.store).await.unwrap();
        let thief = Sm2KeyPair::generate();
        let sig = sign_login(&thief, &challenge, CODE);
        assert!(matches!(
            enterprise_login(&w.db.store, &w.ca, &pem, &challenge, &sig, "-", HOUR).await,
            Err(EnterpriseError::BadSignature)
        ));

        // A signature for another enterprise's code does not pass for this one.
        let sig = sign_login(&key, &challenge, "91310112MA1GB2Y75L");
        assert!(matches!(
            enterprise_login(&w.db.store, &w.ca, &pem, &challenge, &sig, "-", HOUR).await,
            Err(EnterpriseError::BadSignature)
        ));

        // The right signature works once; replaying it does not.
        let sig = sign_login(&key, &challenge, CODE);
        enterprise_login(&w.db.store, &w.ca, &pem, &challenge, &sig, "-", HOUR)
            .await
            .unwrap();
        assert!(matches!(
            enterprise_login(&w.db.store, &w.ca, &pem, &challenge, &sig, "-", HOUR).await,
            Err(EnterpriseError::ChallengeSpent)
        ));

        // A certificate from another CA, or an expired one.
        let stranger = Ca::create("通办测试CA", YEAR).unwrap();
        let foreign = stranger
            .issue(
                &Holder::Enterprise {
                    name: "x".into(),
                    credit_code: CODE.into(),
                },
                &key.public_key(),
                YEAR,
            )
            .unwrap();
        let challenge = new_challenge(&w.db.store).await.unwrap();
        let sig = sign_login(&key, &challenge, CODE);
        assert!(matches!(
            enterprise_login(&w.db.store, &w.ca, &foreign, &challenge, &sig, "-", HOUR).await,
            Err(EnterpriseError::Certificate(_))
        ));
        let expired =
            w.ca.issue(
                &Holder::Enterprise {
                    name: "x".into(),
                    credit_code: CODE.into(),
                },
                &key.public_key(),
                Duration::ZERO,
            )
            .unwrap();
        tokio::time::sleep(Duration::from_millis(1100)).await;
        match enterprise_login(&w.db.store, &w.ca, &expired, &challenge, &sig, "-", HOUR).await {
            Err(EnterpriseError::Certificate(m)) => assert!(m.contains("有效期"), "{m}"),
            other => panic!("expired certificate accepted: {other:?}"),
        }
    }
);

store_test!(
    activation_is_validated_reviewed_and_makes_the_primary,
    |db: TestStore| async move {
        let w = World::new(db);
        let (key, pem) = w.certificate(CODE);
        let actor = w.login(&key, &pem, CODE).await.unwrap().actor;

        let mut bad = form();
        bad.contact_phone = "12345".into();
        bad.legal_representative = " ".into();
        match w
            .activation()
            .submit(&actor, bad, Bytes::from_static(b"%PDF-1.7"))
            .await
        {
            Err(EnterpriseError::Invalid(errors)) => {
                let all = errors.join("\n");
                assert!(all.contains("企业法定代表人：必填"), "{all}");
                assert!(all.contains("联系电话：应为11位手机号码"), "{all}");
                assert!(all.contains("文件内容不是JPG图片"), "{all}");
            }
            other => panic!("{other:?}"),
        }
        match w
            .activation()
            .submit(&actor, form(), jpeg(201 * 1024))
            .await
        {
            Err(EnterpriseError::Invalid(errors)) => {
                assert!(errors[0].contains("图片最大不超过200KB"), "{errors:?}")
            }
            other => panic!("{other:?}"),
        }

        let submitted = w
            .activation()
            .submit(&actor, form(), jpeg(150 * 1024))
            .await
            .unwrap();
        assert_eq!(submitted.state, ActivationState::Submitted);
        assert_eq!(submitted.form.contact_phone, "13816881234");
        assert!(w.calendar.is_working_day(submitted.due_date));
        // Stored sealed; read back in the clear.
        let raw = activations::by_id(&w.db.store, &submitted.id)
            .await
            .unwrap()
            .unwrap();
        assert!(
            raw.form.contact_phone.starts_with("sm4gcm:k1:")
                && !raw.form.contact_phone.contains("13816881234")
        );
        assert_eq!(
            w.activation()
                .get(&submitted.id)
                .await
                .unwrap()
                .unwrap()
                .form
                .contact_phone,
            "13816881234"
        );
        assert!(matches!(
            w.activation().submit(&actor, form(), jpeg(1000)).await,
            Err(EnterpriseError::Conflict(_))
        ));

        // Withdrawn before review, then submitted again.
        w.activation()
            .withdraw(&actor, &submitted.id)
            .await
            .unwrap();
        assert!(
            w.activation()
                .withdraw(&actor, &submitted.id)
                .await
                .is_err(),
            "cannot withdraw twice"
        );
        let again = w
            .activation()
            .submit(&actor, form(), jpeg(1000))
            .await
            .unwrap();

        let officer = officer(&w.db).await;
        assert!(
            matches!(
                w.activation()
                    .decide(&officer, &again.id, false, "  ")
                    .await,
                Err(EnterpriseError::Invalid(_))
            ),
            "a refusal needs a reason"
        );
        w.activation()
            .decide(&officer, &again.id, true, "材料齐全")
            .await
            .unwrap();
        assert!(
            matches!(
                w.activation().decide(&officer, &again.id, true, "").await,
                Err(EnterpriseError::Conflict(_))
            ),
            "decided once"
        );
        assert!(
            w.activation().withdraw(&actor, &again.id).await.is_err(),
            "too late to withdraw"
        );

        let login = w.login(&key, &pem, CODE).await.unwrap();
        assert_eq!(login.actor.certificate.role, CertificateRole::Primary);
        assert_eq!(login.actor.certificate.holder, "王珺");
        assert!(login.has_primary);
        tongban_identity::audit::verify(&w.db.store).await.unwrap();
    }
);

store_test!(
    a_secondary_certificate_acts_only_on_its_services,
    |db: TestStore| async move {
        let w = World::new(db);
        let (primary_key, primary_pem) = w.certificate(CODE);
        let primary = w
            .login(&primary_key, &primary_pem, CODE)
            .await
            .unwrap()
            .actor;
        let request = w
            .activation()
            .submit(&primary, form(), jpeg(1000))
            .await
            .unwrap();
        w.activation()
            .decide(&officer(&w.db).await, &request.id, true, "")
            .await
            .unwrap();
        let primary = w
            .login(&primary_key, &primary_pem, CODE)
            .await
            .unwrap()
            .actor;

        let (clerk_key, clerk_pem) = w.certificate(CODE);
        let clerk = w.login(&clerk_key, &clerk_pem, CODE).await.unwrap();
        let clerk_session = clerk.session_secret.clone();
        assert!(clerk.has_primary);
        assert_eq!(clerk.actor.certificate.role, CertificateRole::Unregistered);
        assert!(
            !clerk
                .actor
                .certificate
                .may_act_on("radiation-annual-report")
        );
        assert!(
            matches!(
                w.activation()
                    .submit(&clerk.actor, form(), jpeg(1000))
                    .await,
                Err(EnterpriseError::Conflict(_))
            ),
            "one primary per enterprise"
        );

        let rights = vec!["radiation-annual-report".to_string()];
        let serial = clerk.actor.certificate.serial.clone();
        assert!(matches!(
            enterprise::set_secondary(&w.db.store, &clerk.actor, &serial, "李静", &rights).await,
            Err(EnterpriseError::NotAllowed(_))
        ));
        match enterprise::set_secondary(
            &w.db.store,
            &primary,
            &serial,
            "李静",
            &["no-such-item".to_string()],
        )
        .await
        {
            Err(EnterpriseError::Invalid(e)) => assert!(e[0].contains("未知事项"), "{e:?}"),
            other => panic!("{other:?}"),
        }
        enterprise::set_secondary(&w.db.store, &primary, &serial, "李静", &rights)
            .await
            .unwrap();

        let clerk = enterprise::actor_of_session(&w.db.store, &clerk.session_secret)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(clerk.certificate.role, CertificateRole::Secondary);
        assert!(clerk.certificate.may_act_on("radiation-annual-report"));
        assert!(!clerk.certificate.may_act_on("solid-waste-cross-storage"));

        // Another enterprise's primary cannot touch this certificate.
        let (other_key, other_pem) = w.certificate("91310112MA1GB2Y75L");
        let other = w
            .login(&other_key, &other_pem, "91310112MA1GB2Y75L")
            .await
            .unwrap();
        let mut other_primary = other.actor.clone();
        other_primary.certificate.role = CertificateRole::Primary;
        assert!(matches!(
            enterprise::set_secondary(&w.db.store, &other_primary, &serial, "x", &[]).await,
            Err(EnterpriseError::NotFound)
        ));
        assert!(matches!(
            enterprise::revoke(&w.db.store, &other_primary, &serial).await,
            Err(EnterpriseError::NotFound)
        ));

        // Revoked: its session ends and it cannot log in again.
        enterprise::revoke(&w.db.store, &primary, &serial)
            .await
            .unwrap();
        assert!(
            enterprise::actor_of_session(&w.db.store, &clerk_session)
                .await
                .unwrap()
                .is_none()
        );
        let login = w.login(&clerk_key, &clerk_pem, CODE).await;
        assert!(matches!(login, Err(EnterpriseError::Certificate(m)) if m.contains("已被注销")));
    }
);

// The contact phone never reaches the database in the clear: not in the SQLite file or its WAL,
// not in a PostgreSQL dump.
store_test!(
    the_phone_number_is_not_readable_in_the_database,
    |db: TestStore| async move {
        let w = World::new(db);
        let (key, pem) = w.certificate(CODE);
        let actor = w.login(&key, &pem, CODE).await.unwrap().actor;
        let mut f = form();
        f.contact_phone = "13912345678".into();
        w.activation().submit(&actor, f, jpeg(1000)).await.unwrap();

        let dump: Vec<u8> = if let Some(path) = w.db.url.strip_prefix("sqlite://") {
            let mut bytes = std::fs::read(path).unwrap();
            bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
            bytes
        } else {
            let out = std::process::Command::new("pg_dump")
                .arg("--data-only")
                .arg(&w.db.url)
                .output()
                .expect("pg_dump runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        };
        let text = String::from_utf8_lossy(&dump);
        assert!(
            text.contains("王珺"),
            "the dump does hold the request (so the search below means something)"
        );
        assert!(text.contains("sm4gcm:k1:"));
        assert!(
            !text.contains("13912345678"),
            "the phone number is readable in the database"
        );
    }
);

store_test!(
    two_simultaneous_requests_make_one_pending_activation,
    |db: TestStore| async move {
        let w = std::sync::Arc::new(World::new(db));
        let (key, pem) = w.certificate(CODE);
        let first = w.login(&key, &pem, CODE).await.unwrap().actor;
        let (key2, pem2) = w.certificate(CODE);
        let second = w.login(&key2, &pem2, CODE).await.unwrap().actor;
        let (one, two) = (w.activation(), w.activation());
        let (a, b) = tokio::join!(
            one.submit(&first, form(), jpeg(1000)),
            two.submit(&second, form(), jpeg(1001)),
        );
        let oks = [a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count();
        assert_eq!(oks, 1, "{a:?} / {b:?}");
        let refused = a.err().or(b.err()).expect("one was refused");
        assert!(matches!(refused, EnterpriseError::Conflict(m) if m.contains("待处理")));
        assert_eq!(activations::pending(&w.db.store).await.unwrap().len(), 1);
    }
);
