//! The vault conformance suite on the PostgreSQL store: every case gets a fresh schema.

mod pg_common;

use pg_common::{database_url, TestSchema};
use std::sync::{Arc, Mutex};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_vault_passes_vault_conformance() {
    let Some(url) = database_url() else { return };
    let schemas: Arc<Mutex<Vec<TestSchema>>> = Arc::default();
    let made = schemas.clone();
    plaint_store::vault_conformance::run_all_vault(move || {
        let url = url.clone();
        let made = made.clone();
        async move {
            let schema = TestSchema::create(&url, "vault").await;
            let store = schema.connect().await;
            made.lock().unwrap().push(schema);
            store
        }
    })
    .await;
    let schemas = std::mem::take(&mut *schemas.lock().unwrap());
    for schema in schemas {
        schema.drop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_key_row_is_corruption_naming_table_and_key() {
    use plaint_store::vault::{NewKey, VaultWrite};
    use plaint_store::{AppendRequest, ExpectedVersion, StoreError, Vault};
    let Some(url) = database_url() else { return };
    let schema = TestSchema::create(&url, "vdmg").await;
    let store = schema.connect().await;
    let key = NewKey {
        id: "abcd.k1".into(),
        secret: plaint_store::vault::random_secret().unwrap(),
    };
    store
        .append_with_vault(
            vec![AppendRequest {
                stream: "s".into(),
                expected: ExpectedVersion::Exact(0),
                events: vec![pg_common::event("c-1", 1)],
            }],
            VaultWrite {
                keys: vec![key],
                links: Vec::new(),
                sealed: Vec::new(),
            },
        )
        .await
        .unwrap();
    let raw = schema.raw().await;
    raw.execute(
        &format!(
            "UPDATE {}.vault_keys SET secret = set_byte(secret, 0, get_byte(secret, 0) # 1)",
            schema.options.schema
        ),
        &[],
    )
    .await
    .unwrap();
    let err = store.key("abcd.k1").await.expect_err("damaged row");
    assert!(
        matches!(&err, StoreError::Corrupt { file, detail, .. } if file.ends_with(".vault_keys") && detail.contains("abcd.k1")),
        "{err}"
    );
    let err = store.verify_vault().await.expect_err("verify sees the damage");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    drop(store);
    schema.drop().await;
}
