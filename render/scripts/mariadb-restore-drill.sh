#!/usr/bin/env bash
# Prove the newest off-site MariaDB dump restores: fetch it, restore it into a scratch
# database, check it against the manifest recorded at dump time (table count, row counts of
# the largest tables), drop the scratch database, and report to monitoring. Any failure exits
# non-zero and reports "down". With RESTORE_INTO set it restores into that database instead and
# keeps it: the one command for a real incident (README, "Backups and monitoring").
#
# Environment: as mariadb-backup.sh (MARIADB_HOST MARIADB_PORT MARIADB_USER MYSQL_PWD, S3_*,
# AWS_*, PUSH_URL; the user may create and drop databases), and
#   SCRATCH_DB      the drill's scratch database (default: restore_drill)
#   RESTORE_INTO    (optional) restore into this new database and keep it
#   DUMP_KEY        (optional) the dump to use; default: the newest, daily or hourly
set -euo pipefail

# shellcheck source=render/scripts/backup-lib.sh
. "$(dirname "$0")/backup-lib.sh"
: "${MARIADB_HOST:?} ${MARIADB_USER:?} ${S3_ENDPOINT:?} ${S3_BUCKET:?} ${S3_PREFIX:?}"
target=${RESTORE_INTO:-${SCRATCH_DB:-restore_drill}}

fail() { echo "restore drill failed: $*" >&2; report down "$*"; exit 1; }
trap 'fail "error at line $LINENO"' ERR

connection=(--host="$MARIADB_HOST" --port="${MARIADB_PORT:-3306}" --user="$MARIADB_USER")
sql() { mariadb "${connection[@]}" --batch --skip-column-names "$@"; }

work=$(mktemp -d)
cleanup() {
  rm -rf "$work"
  if [ -z "${RESTORE_INTO:-}" ]; then
    sql -e "DROP DATABASE IF EXISTS \`$target\`" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

key=${DUMP_KEY:-$(newest "$S3_PREFIX" .sql.gz)}  # the newest, daily or hourly
[ -n "$key" ] || fail "no dump under s3://$S3_BUCKET/$S3_PREFIX/"
s3 s3 cp --only-show-errors "s3://$S3_BUCKET/$key" "$work/dump.sql.gz" || fail "cannot fetch $key"
s3 s3 cp --only-show-errors "s3://$S3_BUCKET/${key%.sql.gz}.manifest" "$work/manifest" \
  || fail "cannot fetch the manifest of $key"
gzip -t "$work/dump.sql.gz" 2>/dev/null || fail "$key is not a readable dump"

if [ -z "${RESTORE_INTO:-}" ]; then
  sql -e "DROP DATABASE IF EXISTS \`$target\`"
fi
sql -e "CREATE DATABASE \`$target\`"
gunzip -c "$work/dump.sql.gz" | sql "$target" || fail "$key did not restore"

count_tables() {
  sql "$target" -e "SELECT COUNT(*) FROM information_schema.tables
    WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
}
count_rows() { sql "$target" -e "SELECT COUNT(*) FROM $1"; }
# shellcheck disable=SC2016 # backquotes: MariaDB's identifier quotes, not a command
check_manifest "$work/manifest" '(`([^`]|``)+`|[A-Za-z_][A-Za-z0-9_$]*)' "$key"

echo "restore drill ok: $key, $tables tables, row counts match"
report up "drill ok ${key##*/}"
