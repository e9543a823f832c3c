//! `plaint verify` covers the vault (issue 12 problem 2): a damaged or deleted vault is damage,
//! exit 1, naming the vault file — never customers silently read as erased.

mod common;
use common::*;
use predicates::prelude::*;

#[test]
fn verify_names_a_damaged_vault_record_and_exits_1() {
    let env = Env::new();
    env.init();
    import_lines(&env, "a.jsonl", &closed_lifecycle("CMP-V-1"));
    import_lines(&env, "b.jsonl", &closed_lifecycle("CMP-V-2"));
    env.plaint(&["verify"]).assert().success();
    let vault = env.store().join("vault.pvlt");
    let mut bytes = std::fs::read(&vault).unwrap();
    assert!(bytes.len() > 64 + 256, "two customers' keys");
    bytes[64 + 40] ^= 0x10; // inside the first record, not the last one
    std::fs::write(&vault, &bytes).unwrap();
    env.plaint(&["verify"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("vault.pvlt").and(predicate::str::contains("offset 64")));
    let out = env.plaint(&["show", "CMP-V-1", "--json", "--reveal"]).output().unwrap();
    assert!(!stdout(&out).contains("\"erased\""), "damage never reads as erased");
}

#[test]
fn verify_reports_a_deleted_vault_and_exits_1() {
    let env = Env::new();
    env.init();
    import_lines(&env, "a.jsonl", &closed_lifecycle("CMP-V-3"));
    std::fs::remove_file(env.store().join("vault.pvlt")).unwrap();
    // verify opens read-only and creates nothing: it names the missing vault file.
    env.plaint(&["verify"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("vault.pvlt").and(predicate::str::contains("missing")));
    assert!(
        !env.store().join("vault.pvlt").exists(),
        "a read-only verify creates no vault"
    );
    let out = env.plaint(&["export", "--reveal"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!stdout(&out).contains("\"erased\""));
}
