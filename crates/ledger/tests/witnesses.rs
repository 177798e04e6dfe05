//! Three witnesses, each with its own store, cosign the log's checkpoints after checking their
//! consistency; a checkpoint with 3 of the 4 signatures is final. A rewritten history, signed
//! with the log's own key, is refused by every witness, which keeps both checkpoints.
use tongban_crypto::Sm2KeyPair;
use tongban_ledger::contracts::VERSION;
use tongban_ledger::log::{self, CosignRefusal, Log, Request};
use tongban_ledger::witness::{DEFAULT_QUORUM, Witness, WitnessError, Witnesses};
use tongban_store::testing::{self, TestStore};
use tongban_store::{Store, chain, store_test};

const ORIGIN: &str = "shanghai-eeb/solid-waste";

fn filing(key: &str, no: &str) -> Request {
    Request {
        contract: "filing".into(),
        version: VERSION,
        key: key.into(),
        operation: "create".into(),
        payload: format!(r#"{{"filing_no":"{no}"}}"#),
        app_id: "shanghai-eeb".into(),
        app_signature: "00".into(),
        nonce: None,
    }
}

async fn batch(log: &Log, store: &Store, prefix: &str, n: usize) {
    let requests: Vec<Request> = (0..n)
        .map(|i| filing(&format!("{prefix}-{i}"), &format!("沪备{prefix}{i}")))
        .collect();
    let appended = log.append(store, &requests).await.unwrap();
    assert!(appended.results.iter().all(Result::is_ok));
}

/// The witness fetches the newest checkpoint and the proof from its last size, and checks it.
async fn observe(
    w: &Witness,
    own: &Store,
    log_store: &Store,
) -> Result<(u64, Vec<u8>), WitnessError> {
    let latest = log::latest(log_store, ORIGIN).await.unwrap().unwrap();
    let old = w.last(own).await.unwrap().map_or(0, |(c, _)| c.size);
    let proof = log::consistency_proof(log_store, old, latest.checkpoint.size)
        .await
        .unwrap();
    let cosignature = w
        .observe(own, &latest.checkpoint, &latest.signature, &proof)
        .await?;
    Ok((latest.checkpoint.height, cosignature))
}

store_test!(
    witnesses_cosign_a_consistent_log_and_refuse_a_rewritten_one,
    |db: TestStore| async move {
        let store = db.store.clone();
        let log_key = Sm2KeyPair::generate();
        let log = Log::new(ORIGIN, log_key.clone());
        let mut witnesses = Vec::new();
        let mut own = Vec::new();
        for name in ["jiangsu", "zhejiang", "anhui"] {
            witnesses.push(Witness::new(
                name,
                Sm2KeyPair::generate(),
                ORIGIN,
                log.public_key(),
            ));
            own.push(testing::sqlite().await);
        }
        let registry = Witnesses(
            witnesses
                .iter()
                .map(|w| (w.name.clone(), w.public_key()))
                .collect(),
        );
        for round in 0..5u64 {
            batch(&log, &store, &format!("R{round}"), 20).await;
            for (i, (w, s)) in witnesses.iter().zip(&own).enumerate() {
                // Anhui's witness is offline for round 2: three signatures still make it final.
                if round == 2 && i == 2 {
                    continue;
                }
                let (height, cosignature) = observe(w, &s.store, &store).await.unwrap();
                assert!(
                    log::add_cosignature(&store, ORIGIN, &registry, height, &w.name, &cosignature)
                        .await
                        .unwrap()
                );
            }
            let fin = log::latest_final(&store, ORIGIN, &registry, DEFAULT_QUORUM)
                .await
                .unwrap()
                .expect("final");
            assert_eq!(fin.signed.checkpoint.height, round + 1);
            let all = log::latest_final(&store, ORIGIN, &registry, 4)
                .await
                .unwrap()
                .unwrap();
            let expected = if round == 2 { 2 } else { round + 1 };
            assert_eq!(
                all.signed.checkpoint.height, expected,
                "4 of 4 in round {round}"
            );
        }
        // A cosignature under another witness's name is refused.
        let latest = log::latest(&store, ORIGIN).await.unwrap().unwrap();
        let by_zhejiang = latest
            .checkpoint
            .cosign("zhejiang", &Sm2KeyPair::generate());
        assert!(matches!(
            log::add_cosignature(&store, ORIGIN, &registry, 5, "zhejiang", &by_zhejiang).await,
            Err(CosignRefusal::BadSignature(_))
        ));
        assert!(matches!(
            log::add_cosignature(&store, ORIGIN, &registry, 5, "fujian", &by_zhejiang).await,
            Err(CosignRefusal::UnknownWitness(_))
        ));
        // An older checkpoint is not cosigned again.
        let second = log::checkpoint(&store, ORIGIN, 2).await.unwrap().unwrap();
        assert!(matches!(
            witnesses[0]
                .observe(&own[0].store, &second.checkpoint, &second.signature, &[])
                .await,
            Err(WitnessError::Stale {
                offered: 2,
                cosigned: 5
            })
        ));

        // Someone with the log's key and a copy of its database rewrites round 1 and signs
        // the new history: every witness refuses it and keeps both checkpoints.
        let forged = testing::sqlite().await;
        let forger = Log::new(ORIGIN, log_key);
        batch(&forger, &forged.store, "R0", 20).await;
        batch(&forger, &forged.store, "X1", 20).await;
        for round in 2..6 {
            batch(&forger, &forged.store, &format!("R{round}"), 20).await;
        }
        for (w, s) in witnesses.iter().zip(&own) {
            let cosigned = w.last(&s.store).await.unwrap().unwrap().0;
            match observe(w, &s.store, &forged.store).await {
                Err(WitnessError::Conflict { reason, .. }) => {
                    assert_eq!(reason, "一致性证明不成立，历史被改写")
                }
                other => panic!("{} cosigned a rewritten history: {other:?}", w.name),
            }
            let evidence = chain::evidence(&s.store).await.unwrap();
            assert_eq!(evidence.len(), 1);
            assert_eq!(evidence[0].cosigned_body, cosigned.body());
            let offered = log::latest(&forged.store, ORIGIN).await.unwrap().unwrap();
            assert_eq!(evidence[0].offered_body, offered.checkpoint.body());
            assert!(
                offered
                    .checkpoint
                    .verify(&log.public_key(), &evidence[0].offered_signature)
            );
            // Still at the honest checkpoint.
            assert_eq!(w.last(&s.store).await.unwrap().unwrap().0, cosigned);
        }
        // The forged log at the height the witnesses cosigned: two checkpoints, one height.
        let forged_five = log::checkpoint(&forged.store, ORIGIN, 5)
            .await
            .unwrap()
            .unwrap();
        match witnesses[1]
            .observe(
                &own[1].store,
                &forged_five.checkpoint,
                &forged_five.signature,
                &[],
            )
            .await
        {
            Err(WitnessError::Conflict { reason, .. }) => {
                assert_eq!(reason, "同一区块高度有两个不同的检查点")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(chain::evidence(&own[1].store).await.unwrap().len(), 2);
    }
);
