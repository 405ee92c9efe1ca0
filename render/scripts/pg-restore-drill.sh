#!/usr/bin/env bash
# Prove the newest off-site dump restores: fetch it, restore it into a scratch database, check
# it against the manifest recorded at dump time (table count, row counts of the largest
# tables), drop the scratch database, and report to monitoring. Any failure exits non-zero
# and reports "down". With RESTORE_INTO set it restores into that database instead and keeps
# it: the one command for a real incident (README, "Backups and monitoring").
#
# Environment: as pg-backup.sh (PGHOST PGPORT PGUSER PGPASSWORD, S3_*, AWS_*, PUSH_URL), and
#   PGDATABASE      a database to connect to for CREATE/DROP DATABASE (e.g. postgres)
#   SCRATCH_DB      the drill's scratch database (default: restore_drill)
#   RESTORE_INTO    (optional) restore into this new database and keep it
#   DUMP_KEY        (optional) the dump to use; default: the newest, daily or hourly
set -euo pipefail

# shellcheck source=render/scripts/backup-lib.sh
. "$(dirname "$0")/backup-lib.sh"
export PGOPTIONS="-c client_min_messages=warning"  # no NOTICE for DROP ... IF EXISTS
: "${PGDATABASE:?} ${S3_ENDPOINT:?} ${S3_BUCKET:?} ${S3_PREFIX:?}"
target=${RESTORE_INTO:-${SCRATCH_DB:-restore_drill}}

fail() { echo "restore drill failed: $*" >&2; report down "$*"; exit 1; }
trap 'fail "error at line $LINENO"' ERR

sql() { psql -X -At -v ON_ERROR_STOP=1 "$@"; }

work=$(mktemp -d)
cleanup() {
  rm -rf "$work"
  if [ -z "${RESTORE_INTO:-}" ]; then
    sql -c "DROP DATABASE IF EXISTS \"$target\"" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

key=${DUMP_KEY:-$(newest "$S3_PREFIX" .dump)}  # the newest, daily or hourly
[ -n "$key" ] || fail "no dump under s3://$S3_BUCKET/$S3_PREFIX/"
s3 s3 cp --only-show-errors "s3://$S3_BUCKET/$key" "$work/dump" || fail "cannot fetch $key"
s3 s3 cp --only-show-errors "s3://$S3_BUCKET/${key%.dump}.manifest" "$work/manifest" \
  || fail "cannot fetch the manifest of $key"
pg_restore --list "$work/dump" >/dev/null 2>&1 || fail "$key is not a readable dump"

if [ -z "${RESTORE_INTO:-}" ]; then
  sql -c "DROP DATABASE IF EXISTS \"$target\"" >/dev/null
fi
sql -c "CREATE DATABASE \"$target\"" >/dev/null
pg_restore --no-owner --exit-on-error --dbname="$target" "$work/dump" \
  || fail "$key did not restore"

count_tables() {
  sql -d "$target" -c "SELECT count(*) FROM pg_tables
    WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
}
count_rows() { sql -d "$target" -c "SELECT count(*) FROM $1"; }
identifier='("([^"]|"")+"|[a-z_][a-z0-9_$]*)'
check_manifest "$work/manifest" "$identifier\.$identifier" "$key"  # schema.table

echo "restore drill ok: $key, $tables tables, row counts match"
report up "drill ok ${key##*/}"
