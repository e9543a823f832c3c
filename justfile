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

lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets
