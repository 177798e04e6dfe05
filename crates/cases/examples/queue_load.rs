//! Load test of 办件审批: N applications of 一般固体废物跨省级行政区域贮存、处置审批 filed the way an
//! enterprise files them (start, three materials, submit), spread over ten districts, half of
//! them accepted; then what an officer's workbench does on every page: the queue counts, the
//! first page of a queue (a district's 待受理, the city's 待审查 merged over two levels), a
//! keyword search, opening a case with its events, and accepting one.
//!
//! `cargo run --release -p tongban-cases --example queue_load -- [N] [postgres://…]`
//! (default 2000, SQLite in a temporary directory). Prints the median of 20 runs of each.
use std::sync::Arc;
use std::time::{Duration, Instant};

use tongban_cases::issuing::{BUREAU, Bureau};
use tongban_cases::workflow::{self, Desk, Queue};
use tongban_cases::{Applicant, materials, start};
use tongban_crypto::{FieldCipher, Sm2KeyPair};
use tongban_documents::Renderer;
use tongban_domain::calendar::WorkCalendar;
use tongban_domain::{
    CreditCode, Enterprise, EnterpriseId, Jurisdiction, Officer, OfficerId, OfficerRole, Timestamp,
};
use tongban_files::{FileStore, FilesConfig};
use tongban_store::{Store, StoreOptions};

const DISTRICTS: [&str; 10] = [
    "310115", "310112", "310104", "310110", "310101", "310105", "310106", "310107", "310109",
    "310113",
];

fn officer(district: &str, roles: &[OfficerRole]) -> Officer {
    Officer {
        id: OfficerId::from_raw(format!("load-{district}")),
        username: format!("load.{district}"),
        display_name: "压测".into(),
        jurisdiction: Jurisdiction::by_code(district).unwrap(),
        roles: roles.to_vec(),
        created_at: Timestamp::now(),
    }
}

/// The median of 20 runs of `f`.
async fn median<F, Fut>(mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(20);
    for _ in 0..20 {
        let t = Instant::now();
        f().await;
        times.push(t.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = args
        .iter()
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = args
        .iter()
        .find(|a| a.starts_with("postgres://"))
        .cloned()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("tongban.db").display()));
    let store = Store::open(&url, StoreOptions::default())
        .await
        .expect("open store");
    let files = FileStore::open(&FilesConfig::Local {
        dir: dir.path().join("files"),
    })
    .expect("file store");
    let bureau = Arc::new(Bureau {
        name: BUREAU.into(),
        seal: Sm2KeyPair::generate(),
        base_url: "http://127.0.0.1:8080".into(),
        renderer: Arc::new(Renderer::new()),
    });
    let fields = FieldCipher::new(
        &[(
            "k1".to_string(),
            "000102030405060708090a0b0c0d0e0f".to_string(),
        )]
        .into(),
        "k1",
        "0f0e0d0c0b0a09080706050403020100",
    )
    .unwrap();
    let calendar = WorkCalendar::official();
    let desk = Desk {
        store: &store,
        calendar: &calendar,
        fields: &fields,
        files: &files,
        bureau: &bureau,
    };
    let item = tongban_items::catalogue()
        .unwrap()
        .get("solid-waste-cross-storage")
        .unwrap()
        .clone();
    println!("{n} applications on {}", store.engine().name());

    let started = Instant::now();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        ids.push(file_one(&desk, &item, i).await);
    }
    let filed = started.elapsed().as_secs_f64();
    println!(
        "filed {n} applications in {filed:.1} s ({:.0} submissions/s, three materials each)",
        n as f64 / filed
    );
    // Every other round of the ten districts is accepted, so each district has both kinds.
    let city_intake = officer("310000", &[OfficerRole::Intake]);
    let (mut accepted, mut waiting) = (vec![], vec![]);
    for (i, id) in ids.iter().enumerate() {
        if (i / DISTRICTS.len()).is_multiple_of(2) {
            accepted.push(id);
        } else {
            waiting.push(id);
        }
    }
    for id in &accepted {
        workflow::accept(&desk, &item, &city_intake, id, "")
            .await
            .unwrap();
    }

    let items = [&item];
    let pudong = officer("310115", &[OfficerRole::Intake, OfficerRole::Review]);
    let city = officer("310000", &[OfficerRole::Review]);
    let t = median(|| async {
        workflow::queue_counts(&desk, &items, &pudong)
            .await
            .unwrap();
    })
    .await;
    println!("queue counts (7 queues), one district: {}", ms(t));
    let t = median(|| async {
        workflow::queue_counts(&desk, &items, &city).await.unwrap();
    })
    .await;
    println!("queue counts (7 queues), the city: {}", ms(t));
    let t = median(|| async {
        let page = workflow::queue(&desk, &items, &pudong, Queue::Acceptance, "", 1)
            .await
            .unwrap();
        assert!(page.total > 0);
    })
    .await;
    println!("待受理 first page, one district: {}", ms(t));
    let t = median(|| async {
        let page = workflow::queue(&desk, &items, &city, Queue::Review, "", 1)
            .await
            .unwrap();
        assert_eq!(page.total as usize, accepted.len());
    })
    .await;
    println!("待审查 first page, the city (two levels merged): {}", ms(t));
    let t = median(|| async {
        let page = workflow::queue(&desk, &items, &city, Queue::Review, "示范热电00003", 1)
            .await
            .unwrap();
        assert!(page.total >= 1);
    })
    .await;
    println!("keyword search, the city: {}", ms(t));
    let t = median(|| async {
        workflow::open(&desk, &item, &city, &ids[0]).await.unwrap();
    })
    .await;
    println!("open a case with its events: {}", ms(t));
    // Writes are timed one by one: each accepts another waiting case.
    let mut times: Vec<Duration> = waiting.iter().take(20).map(|_| Duration::ZERO).collect();
    for (slot, id) in times.iter_mut().zip(&waiting) {
        let t = Instant::now();
        workflow::accept(&desk, &item, &city_intake, id, "")
            .await
            .unwrap();
        *slot = t.elapsed();
    }
    times.sort();
    let t = times[times.len() / 2];
    println!(
        "accept one (event, projection, audit, SMS and outbox): {}",
        ms(t)
    );
}

async fn file_one(desk: &Desk<'_>, item: &tongban_engine::Item, i: usize) -> String {
    let district = DISTRICTS[i % DISTRICTS.len()];
    let code = CreditCode::complete(&format!("91{district}MB{i:07}")).unwrap();
    let e = Enterprise {
        id: EnterpriseId::from_raw(format!("ent-{i}")),
        name: format!("上海示范热电{i:05}有限公司"),
        credit_code: code.clone(),
        legal_representative: "王珺".into(),
        registered_address: "上海市示范路1号".into(),
        district: Jurisdiction::by_code(district).unwrap(),
        created_at: Timestamp::now(),
    };
    let mut tx = desk.store.begin().await.unwrap();
    tongban_store::enterprises::insert(&mut tx, &e)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let me = Applicant::Enterprise {
        id: e.id.clone(),
        actor: format!("enterprise:{}/load", code.as_str()),
    };
    let id = start(desk.store, item, &me, &Default::default())
        .await
        .unwrap();
    for m in [
        "application_form",
        "transport_contract",
        "receiver_contract",
    ] {
        materials::attach(
            desk.store,
            desk.files,
            item,
            &me,
            &id,
            materials::Target::Material(m),
            &format!("{m}.pdf"),
            bytes::Bytes::from(format!("%PDF-1.7\n% {m} {i}\n").into_bytes()),
        )
        .await
        .unwrap();
    }
    let mut data = tongban_items::solid_waste::example_application();
    data.set("unit_name", &e.name);
    data.set("credit_code", code.as_str());
    workflow::submit(desk, item, &me, &id, &data).await.unwrap();
    id
}
