# Everyday commands. `just --list` shows them. Each is a plain cargo/bash line you can also run by hand.

# Run the demo on the embedded default store: generate a realistic workload, rebuild, print the weekly report.
demo complaints="10000" seed="42":
    rm -rf ./plaint-data
    cargo run --release --bin plaint -- demo --complaints {{complaints}} --seed {{seed}}

# Run every test (the same command .ci/run calls). PostgreSQL tests need `just pg` first.
test:
    cargo test --workspace

# Start the local PostgreSQL 15 and print the test database URL to export.
pg:
    bash -c '. .ci/pg-setup.sh'

# Re-make docs/img/weekly-report.png (the README's picture) with the headless Chromium test.
report-screenshot:
    PLAINT_WRITE_SCREENSHOT=1 cargo test -p plaint-cli --test cli_report_browser -- --nocapture

# What CI runs, on this checkout.
ci:
    CI=true bash .ci/run

# Compile and run the benchmarks (results go in docs/PERFORMANCE.md by hand).
bench:
    cargo bench --workspace

# Every performance target of issue 13 in one table (measured, target, ratio, with the disk's
# bandwidth and fdatasync latency and the vs-cqrs-es ratios of the same run): builds the bench
# binaries and the CLI in release mode, then runs them (about 4-6 minutes on the 2-core
# machine; set PLAINT_TEST_DATABASE_URL for the PostgreSQL rows). docs/PERFORMANCE.md.
bench-summary:
    cargo bench -p plaint --no-run
    cargo build --release -p plaint-cli
    cargo bench -p plaint --bench bench_summary

lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets

# Fuzz one target (docs/fuzzing.md) for SECONDS (default 600) with the committed corpus; new
# inputs land in fuzz/corpus/TARGET (minimise with `just fuzz-cmin TARGET` before committing),
# crashes in fuzz/artifacts/TARGET. Needs nightly and `cargo install cargo-fuzz`.
fuzz target seconds="600":
    cd fuzz && nice -n 10 cargo +nightly fuzz run --sanitizer none {{target}} corpus/{{target}} -- -max_total_time={{seconds}} -rss_limit_mb=2048 -timeout=10 -print_final_stats=1

# Minimise a target's committed corpus in place (keeps only inputs that add coverage).
fuzz-cmin target:
    cd fuzz && nice -n 10 cargo +nightly fuzz cmin --sanitizer none {{target}} corpus/{{target}}
