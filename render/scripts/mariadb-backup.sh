#!/usr/bin/env bash
# Dump one MariaDB database to off-site S3 storage, then delete the dumps older than their
# retention. Runs on a schedule; any failure exits non-zero and reports "down" to monitoring.
#
# Environment (secrets only here, never in arguments):
#   MARIADB_HOST MARIADB_PORT MARIADB_USER MARIADB_DATABASE   the database
#   MYSQL_PWD                                    the user's password (the client reads it there)
#   S3_ENDPOINT S3_BUCKET S3_PREFIX              where the dumps go (prefix without slashes)
#   AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY      the bucket's key
#   BACKUP_KIND                                  daily | hourly
#   RETENTION_DAILY_DAYS (30) RETENTION_HOURLY_HOURS (24)
#   PUSH_URL (optional)                          Uptime Kuma push monitor, without a query
#   NOW (optional)                               UTC time of the dump, YYYYmmddTHHMMSSZ (tests)
#
# Objects: s3://$S3_BUCKET/$S3_PREFIX/$BACKUP_KIND/<time>.sql.gz (mariadb-dump in one
# transaction, gzip), and <time>.manifest: the table count and the exact row counts of the
# largest tables at dump time, which the restore drill checks the restored copy against.
set -euo pipefail

# shellcheck source=render/scripts/backup-lib.sh
. "$(dirname "$0")/backup-lib.sh"
: "${MARIADB_HOST:?} ${MARIADB_USER:?} ${MARIADB_DATABASE:?}"
: "${S3_ENDPOINT:?} ${S3_BUCKET:?} ${S3_PREFIX:?} ${BACKUP_KIND:?}"
keep_seconds=$(retention_seconds "$BACKUP_KIND")
LARGEST_TABLES=5

trap 'report down "backup of $MARIADB_DATABASE failed at line $LINENO"' ERR

connection=(--host="$MARIADB_HOST" --port="${MARIADB_PORT:-3306}" --user="$MARIADB_USER")
sql() { mariadb "${connection[@]}" --batch --skip-column-names "$MARIADB_DATABASE" "$@"; }

now=${NOW:-$(date -u +%Y%m%dT%H%M%SZ)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
key="$S3_PREFIX/$BACKUP_KIND/$now"

mariadb-dump "${connection[@]}" --single-transaction --routines --triggers --events \
  "$MARIADB_DATABASE" | gzip -6 > "$work/dump.sql.gz"
{
  printf 'tables\t%s\n' "$(sql -e "SELECT COUNT(*) FROM information_schema.tables
    WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'")"
  # Table names only: the drill restores into another database.
  sql -e "SELECT CONCAT('\`', REPLACE(table_name, '\`', '\`\`'), '\`')
    FROM information_schema.tables WHERE table_schema = DATABASE()
    AND table_type = 'BASE TABLE' ORDER BY data_length + index_length DESC, table_name
    LIMIT $LARGEST_TABLES" \
  | while IFS= read -r table; do
      printf 'rows\t%s\t%s\n' "$table" "$(sql -e "SELECT COUNT(*) FROM $table")"
    done
} > "$work/manifest"
gzip -t "$work/dump.sql.gz"  # a dump that does not decompress is no backup

s3 s3 cp --only-show-errors "$work/dump.sql.gz" "s3://$S3_BUCKET/$key.sql.gz"
s3 s3 cp --only-show-errors "$work/manifest" "s3://$S3_BUCKET/$key.manifest"

prune "$S3_PREFIX/$BACKUP_KIND" "$keep_seconds" "$now"

echo "backed up $MARIADB_DATABASE to s3://$S3_BUCKET/$key.sql.gz" \
  "($(stat -c %s "$work/dump.sql.gz") bytes)"
report up "backup $now ok"
