//! Officer login on both engines: sessions, lockout, and the audit trail it leaves.
use std::time::Duration;

use tongban_domain::{Jurisdiction, Officer, OfficerId, OfficerRole, Timestamp};
use tongban_identity::officer_login::officer_logout;
use tongban_identity::{LOCK_AFTER_FAILURES, LoginError, hash_password, officer_login, session};
use tongban_store::testing::TestStore;
use tongban_store::{audit, officers, store_test};

async fn officer(db: &TestStore, password: &str) -> Officer {
    let o = Officer {
        id: OfficerId::new(),
        username: "pd.shencha".into(),
        display_name: "浦东审核员".into(),
        jurisdiction: Jurisdiction::by_code("310115").unwrap(),
        roles: vec![OfficerRole::Review],
        created_at: Timestamp::now(),
    };
    let mut tx = db.store.begin().await.unwrap();
    officers::upsert_by_username(&mut tx, &o, &hash_password(password))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    o
}

const HOUR: Duration = Duration::from_secs(3600);

store_test!(
    a_login_opens_a_session_and_is_audited,
    |db: TestStore| async move {
        let o = officer(&db, "Right#2026").await;
        let login = officer_login(&db.store, " pd.shencha ", "Right#2026", "127.0.0.1", HOUR)
            .await
            .unwrap();
        assert_eq!(login.officer, o);
        assert_eq!(
            session::officer(&db.store, &login.session_secret)
                .await
                .unwrap(),
            Some(o.clone())
        );
        assert_eq!(session::officer(&db.store, "forged").await.unwrap(), None);

        officer_logout(&db.store, &login.session_secret, Some(&o))
            .await
            .unwrap();
        assert_eq!(
            session::officer(&db.store, &login.session_secret)
                .await
                .unwrap(),
            None
        );

        let actions: Vec<_> = audit::page(&db.store, 0, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.action)
            .collect();
        assert_eq!(actions, ["login", "logout"]);
        assert_eq!(tongban_identity::audit::verify(&db.store).await.unwrap(), 2);
    }
);

store_test!(
    five_failures_lock_the_account_even_against_the_right_password,
    |db: TestStore| async move {
        officer(&db, "Right#2026").await;
        for _ in 1..LOCK_AFTER_FAILURES {
            assert!(matches!(
                officer_login(&db.store, "pd.shencha", "wrong", "10.0.0.9", HOUR).await,
                Err(LoginError::BadCredentials)
            ));
        }
        let until = match officer_login(&db.store, "pd.shencha", "wrong", "10.0.0.9", HOUR).await {
            Err(LoginError::Locked { until }) => until,
            other => panic!("the fifth failure did not lock: {other:?}"),
        };
        assert!(until > Timestamp::now().after(Duration::from_secs(14 * 60)));
        assert!(matches!(
            officer_login(&db.store, "pd.shencha", "Right#2026", "10.0.0.9", HOUR).await,
            Err(LoginError::Locked { .. })
        ));

        let actions: Vec<_> = audit::page(&db.store, 0, 20)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.action)
            .collect();
        assert_eq!(actions.iter().filter(|a| *a == "login_failed").count(), 5);
        assert!(actions.contains(&"account_locked".to_string()));
        assert_eq!(actions.last().unwrap(), "login_locked");
        tongban_identity::audit::verify(&db.store).await.unwrap();
    }
);

store_test!(
    an_unknown_username_fails_like_a_wrong_password,
    |db: TestStore| async move {
        assert!(matches!(
            officer_login(&db.store, "nobody", "x", "127.0.0.1", HOUR).await,
            Err(LoginError::BadCredentials)
        ));
        let rows = audit::page(&db.store, 0, 10).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].action, "login_failed");
        assert!(rows[0].detail.contains("nobody"));
    }
);

store_test!(
    an_officer_logs_in_with_a_certificate_unless_locked,
    |db: TestStore| async move {
        use tongban_crypto::Sm2KeyPair;
        use tongban_crypto::cert::{Ca, Holder};
        use tongban_identity::officer_login::{
            CertificateLoginError, certificate_login_message, officer_certificate_login,
        };
        let o = officer(&db, "Right#2026").await;
        let ca = Ca::create("通办测试CA", Duration::from_secs(86400)).unwrap();
        let issued = tongban_identity::officer_certificate::issue(&db.store, &ca, &o, "admin")
            .await
            .unwrap();
        let (key, pem) = (issued.key, issued.pem);

        let challenge = tongban_identity::session::new_challenge(&db.store)
            .await
            .unwrap();
        let sig = key.sign(&certificate_login_message(&challenge, "pd.shencha"));
        let login = officer_certificate_login(&db.store, &ca, &pem, &challenge, &sig, "-", HOUR)
            .await
            .unwrap();
        assert_eq!(login.officer, o);
        assert!(matches!(
            officer_certificate_login(&db.store, &ca, &pem, &challenge, &sig, "-", HOUR).await,
            Err(CertificateLoginError::ChallengeSpent)
        ));

        // Someone else's key, or an enterprise certificate, does not open the account.
        let challenge = tongban_identity::session::new_challenge(&db.store)
            .await
            .unwrap();
        let thief =
            Sm2KeyPair::generate().sign(&certificate_login_message(&challenge, "pd.shencha"));
        assert!(matches!(
            officer_certificate_login(&db.store, &ca, &pem, &challenge, &thief, "-", HOUR).await,
            Err(CertificateLoginError::BadSignature)
        ));
        let enterprise_pem = ca
            .issue(
                &Holder::Enterprise {
                    name: "x".into(),
                    credit_code: "91310115MA1FL8XQ34".into(),
                },
                &key.public_key(),
                Duration::from_secs(86400),
            )
            .unwrap();
        assert!(matches!(
            officer_certificate_login(&db.store, &ca, &enterprise_pem, &challenge, &sig, "-", HOUR)
                .await,
            Err(CertificateLoginError::Certificate(_))
        ));

        // A certificate from our CA that was not issued through Tongban (not recorded) is refused.
        let unrecorded = ca
            .issue(
                &Holder::Officer {
                    name: o.display_name.clone(),
                    username: o.username.clone(),
                },
                &key.public_key(),
                Duration::from_secs(86400),
            )
            .unwrap();
        let sig = key.sign(&certificate_login_message(&challenge, "pd.shencha"));
        match officer_certificate_login(&db.store, &ca, &unrecorded, &challenge, &sig, "-", HOUR)
            .await
        {
            Err(CertificateLoginError::Certificate(m)) => assert!(m.contains("未登记或已吊销")),
            other => panic!(
                "unrecorded certificate accepted: {:?}",
                other.map(|l| l.officer)
            ),
        }

        // Revoking the certificate ends its session but not a password session, and refuses it.
        let by_password = officer_login(&db.store, "pd.shencha", "Right#2026", "-", HOUR)
            .await
            .unwrap();
        tongban_identity::officer_certificate::revoke(&db.store, &issued.serial, "admin")
            .await
            .unwrap();
        let session = |secret: String| {
            let store = db.store.clone();
            async move {
                tongban_identity::session::officer(&store, &secret)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(session(login.session_secret.clone()).await, None);
        assert_eq!(
            session(by_password.session_secret.clone()).await,
            Some(o.clone())
        );
        let challenge = tongban_identity::session::new_challenge(&db.store)
            .await
            .unwrap();
        let sig = key.sign(&certificate_login_message(&challenge, "pd.shencha"));
        assert!(matches!(
            officer_certificate_login(&db.store, &ca, &pem, &challenge, &sig, "-", HOUR).await,
            Err(CertificateLoginError::Certificate(_))
        ));
        assert!(
            tongban_identity::officer_certificate::revoke(&db.store, &issued.serial, "admin")
                .await
                .is_err()
        );
        let log = audit::page(&db.store, 0, 100).await.unwrap();
        assert!(log.iter().any(|e| e.action == "permission_change"
            && e.detail.contains("certificate_revoked")
            && e.detail.contains(&issued.serial)));

        // Five wrong passwords lock the account for the certificate too (a fresh one).
        let issued = tongban_identity::officer_certificate::issue(&db.store, &ca, &o, "admin")
            .await
            .unwrap();
        let (key, pem) = (issued.key, issued.pem);
        for _ in 0..LOCK_AFTER_FAILURES {
            let _ = officer_login(&db.store, "pd.shencha", "wrong", "-", HOUR).await;
        }
        let sig = key.sign(&certificate_login_message(&challenge, "pd.shencha"));
        assert!(matches!(
            officer_certificate_login(&db.store, &ca, &pem, &challenge, &sig, "-", HOUR).await,
            Err(CertificateLoginError::Locked { .. })
        ));
    }
);
