//! The shared conformance suite, unchanged, on the PostgreSQL store: every case gets a fresh,
//! empty schema; all of them are dropped at the end.

mod pg_common;

use pg_common::{database_url, TestSchema};
use std::sync::{Arc, Mutex};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite_on_postgres() {
    let Some(url) = database_url() else { return };
    let schemas: Arc<Mutex<Vec<TestSchema>>> = Arc::default();
    let made = schemas.clone();
    plaint_store::conformance::run_all(move || {
        let url = url.clone();
        let made = made.clone();
        async move {
            let schema = TestSchema::create(&url, "conf").await;
            let store = schema.connect().await;
            made.lock().unwrap().push(schema);
            store
        }
    })
    .await;
    let schemas = std::mem::take(&mut *schemas.lock().unwrap());
    assert!(!schemas.is_empty(), "the suite asked for stores");
    for schema in schemas {
        schema.drop().await;
    }
}
