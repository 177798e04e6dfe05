//! Individuals on both engines: registration rules, login by phone or identity number, lockout,
//! and SMS codes delivered through the outbox to a recording peer.
use std::sync::Arc;
use std::time::Duration;

use tongban_crypto::FieldCipher;
use tongban_identity::individual::{self, CodePurpose, IndividualError, Registration};
use tongban_identity::sms::{self, RecordingSms};
use tongban_jobs::Scheduler;
use tongban_store::testing::TestStore;
use tongban_store::{individuals, store_test};

const HOUR: Duration = Duration::from_secs(3600);

fn fields() -> FieldCipher {
    let keys = [("k1".to_string(), tongban_crypto::field::new_key_hex())].into();
    FieldCipher::new(&keys, "k1", &tongban_crypto::field::new_key_hex()).unwrap()
}

fn registration() -> Registration {
    Registration {
        name: "张玥".into(),
        id_number: tongban_domain::id_number::IdNumber::complete("31010419900307123")
            .unwrap()
            .as_str()
            .into(),
        phone: "13912345678".into(),
        password: "Huanbao2026".into(),
    }
}

store_test!(
    registration_is_validated_and_numbers_are_sealed,
    |db: TestStore| async move {
        let f = fields();
        let bad = Registration {
            name: "张".into(),
            id_number: "310104199003071230".into(),
            phone: "1391234".into(),
            password: "password".into(),
        };
        match individual::register(&db.store, &f, &bad).await {
            Err(IndividualError::Invalid(errors)) => {
                let all = errors.join("\n");
                for expected in [
                    "姓名：应为2至30个字",
                    "身份证号码：身份证号码校验位错误",
                    "手机号码：应为11位手机号码",
                    "密码：至少8位",
                ] {
                    assert!(all.contains(expected), "missing {expected:?} in {all}");
                }
            }
            other => panic!("{other:?}"),
        }

        let who = individual::register(&db.store, &f, &registration())
            .await
            .unwrap();
        assert_eq!(who.masked_phone(), "139****5678");
        let raw = individuals::by_id(&db.store, &who.id)
            .await
            .unwrap()
            .unwrap();
        assert!(raw.phone.starts_with("sm4gcm:") && !raw.phone.contains("13912345678"));
        assert!(raw.id_number.starts_with("sm4gcm:") && !raw.id_number.contains("19900307"));
        assert!(matches!(
            individual::register(&db.store, &f, &registration()).await,
            Err(IndividualError::AlreadyRegistered)
        ));
    }
);

store_test!(
    login_by_phone_or_identity_number_with_lockout,
    |db: TestStore| async move {
        let f = fields();
        let who = individual::register(&db.store, &f, &registration())
            .await
            .unwrap();
        let (by_phone, secret) =
            individual::login(&db.store, &f, "13912345678", "Huanbao2026", "-", HOUR)
                .await
                .unwrap();
        assert_eq!(by_phone, who);
        assert_eq!(
            individual::of_session(&db.store, &f, &secret)
                .await
                .unwrap(),
            Some(who.clone())
        );
        let id = who.id_number.as_str().to_lowercase();
        assert!(
            individual::login(&db.store, &f, &id, "Huanbao2026", "-", HOUR)
                .await
                .is_ok(),
            "identity number, any case"
        );
        assert!(matches!(
            individual::login(&db.store, &f, "13900000000", "Huanbao2026", "-", HOUR).await,
            Err(IndividualError::BadCredentials)
        ));
        for _ in 1..5 {
            assert!(matches!(
                individual::login(&db.store, &f, "13912345678", "wrong", "-", HOUR).await,
                Err(IndividualError::BadCredentials)
            ));
        }
        assert!(matches!(
            individual::login(&db.store, &f, "13912345678", "wrong", "-", HOUR).await,
            Err(IndividualError::Locked { .. })
        ));
        assert!(matches!(
            individual::login(&db.store, &f, "13912345678", "Huanbao2026", "-", HOUR).await,
            Err(IndividualError::Locked { .. })
        ));
    }
);

store_test!(
    signing_codes_go_through_the_outbox_and_are_spent_once,
    |db: TestStore| async move {
        let f = Arc::new(fields());
        let who = individual::register(&db.store, &f, &registration())
            .await
            .unwrap();
        individual::send_code(&db.store, &f, &who, CodePurpose::SignApplication)
            .await
            .unwrap();

        // Queued, sealed: neither the number nor the text is readable in the jobs table.
        let pending = tongban_store::jobs::claim(
            &db.store,
            tongban_domain::Timestamp::now(),
            Duration::from_secs(1),
            10,
        )
        .await
        .unwrap();
        assert_eq!(pending.len(), 1);
        let raw = pending[0].payload.to_string();
        assert!(
            !raw.contains("13912345678") && !raw.contains("验证码"),
            "{raw}"
        );
        tokio::time::sleep(Duration::from_millis(1100)).await; // let that claim's lease lapse

        let peer = RecordingSms::default();
        let scheduler = Scheduler::builder(db.store.clone())
            .on(
                sms::JOB_KIND,
                sms::handler(f.clone(), Arc::new(peer.clone())),
            )
            .build();
        assert_eq!(scheduler.run_due().await.unwrap().succeeded, 1);
        let (to, text) = peer.0.lock().unwrap()[0].clone();
        assert_eq!(to, "13912345678");
        assert!(
            text.starts_with("【上海市生态环境局】您正在进行申请表签名，验证码"),
            "{text}"
        );
        let code: String = text
            .chars()
            .filter(|c| c.is_ascii_digit())
            .take(6)
            .collect();

        let wrong = if code == "000000" { "111111" } else { "000000" };
        assert!(matches!(
            individual::verify_code(&db.store, &f, &who, CodePurpose::SignApplication, wrong).await,
            Err(IndividualError::WrongCode)
        ));
        individual::verify_code(&db.store, &f, &who, CodePurpose::SignApplication, &code)
            .await
            .unwrap();
        assert!(
            matches!(
                individual::verify_code(&db.store, &f, &who, CodePurpose::SignApplication, &code)
                    .await,
                Err(IndividualError::CodeExpired)
            ),
            "spent"
        );
    }
);

store_test!(
    codes_resist_guessing_and_flooding,
    |db: TestStore| async move {
        let f = fields();
        let who = individual::register(&db.store, &f, &registration())
            .await
            .unwrap();
        individual::send_code(&db.store, &f, &who, CodePurpose::SignApplication)
            .await
            .unwrap();
        for _ in 0..individual::MAX_CODE_ATTEMPTS {
            let _ = individual::verify_code(
                &db.store,
                &f,
                &who,
                CodePurpose::SignApplication,
                "999999",
            )
            .await;
        }
        // Even the right code no longer helps; a new one must be fetched.
        assert!(matches!(
            individual::verify_code(&db.store, &f, &who, CodePurpose::SignApplication, "000000")
                .await,
            Err(IndividualError::TooManyAttempts)
        ));
        for _ in 1..individual::MAX_CODES_PER_HOUR {
            individual::send_code(&db.store, &f, &who, CodePurpose::SignApplication)
                .await
                .unwrap();
        }
        assert!(matches!(
            individual::send_code(&db.store, &f, &who, CodePurpose::SignApplication).await,
            Err(IndividualError::TooManyCodes)
        ));
    }
);
