# Sourced by .ci/run and `just pg`: starts the local PostgreSQL 15 cluster, creates the test role
# and database, and exports PLAINT_TEST_DATABASE_URL. Idempotent.
pg_url="postgres://plaint:plaint@127.0.0.1:5432/plaint_test"
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    echo "PostgreSQL 15 is not installed (pg_ctlcluster missing); installing" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
  fi
fi
if command -v pg_ctlcluster >/dev/null 2>&1; then
  pg_ctlcluster 15 main start 2>/dev/null || true
  for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 0.5
  done
  pg_isready -h 127.0.0.1 -p 5432
  su postgres -c "psql -v ON_ERROR_STOP=1 -q" <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'plaint') THEN
    CREATE ROLE plaint LOGIN SUPERUSER PASSWORD 'plaint';
  END IF;
END $$;
SQL
  su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = 'plaint_test'\"" | grep -q 1 \
    || su postgres -c "createdb -O plaint plaint_test"
  export PLAINT_TEST_DATABASE_URL="$pg_url"
  echo "PLAINT_TEST_DATABASE_URL=$PLAINT_TEST_DATABASE_URL"
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is required under CI=true and could not be started" >&2
  exit 1
fi
