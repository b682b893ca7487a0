//! Times the import (parse + validate + map + one database transaction) and the export
//! (read + map + serialise) of a generated 5,000-item CASE framework, on the backend that
//! `TESSERA_TEST_BACKEND` names (a fresh test database). Figures go to BENCHMARKS.md.
//!
//! `cargo run --release -p tessera-store --features testing --example case_import_bench [ITEMS] [RUNS]`

use std::time::{Duration, Instant};

use chrono::Utc;
use tessera_case::ValidationOptions;
use tessera_core::account::OrgKind;
use tessera_store::testing::TestDb;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let items: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let json = tessera_case::generate::package_json(items);
    let (mut first, mut again, mut exports, mut pure) = (vec![], vec![], vec![], vec![]);
    let mut backend = None;
    for _ in 0..runs {
        let db = TestDb::new().await;
        backend = Some(db.store.backend());
        let org = db
            .store
            .create_org("bench", "Bench", OrgKind::District, Utc::now())
            .await
            .expect("org")
            .id;
        // First import (inserts), then a re-import of the same package (updates).
        for times in [&mut first, &mut again] {
            let start = Instant::now();
            let framework = tessera_case::import(json.as_bytes(), &ValidationOptions::default())
                .expect("generated package is valid");
            let parsed = start.elapsed();
            db.store
                .import_case(&org, &framework, Utc::now())
                .await
                .expect("import");
            times.push(start.elapsed());
            pure.push(parsed);
        }
        let start = Instant::now();
        let id = tessera_case::generate::uuid_for(1, 0).to_string();
        let framework = db.store.export_case(&id).await.expect("export");
        let bytes = tessera_case::to_json(&tessera_case::export(&framework)).expect("json");
        exports.push(start.elapsed());
        assert_eq!(framework.competencies.len(), items);
        assert!(bytes.len() > items * 100);
    }
    println!(
        "{items}-item CASE framework ({} bytes) on {:?}, median of {runs}: \
         parse+validate+map {:?}; import (new) {:?}; re-import (update) {:?}; export+serialise {:?}",
        json.len(),
        backend,
        median(pure),
        median(first),
        median(again),
        median(exports)
    );
}
