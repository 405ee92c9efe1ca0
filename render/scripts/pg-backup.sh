#!/usr/bin/env bash
# Dump one PostgreSQL database to off-site S3 storage, then delete the dumps older than their
# retention. Runs on a schedule; any failure exits non-zero and reports "down" to monitoring.
#
# Environment (secrets only here, never in arguments):
#   PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE   the database (libpq's own variables)
#   S3_ENDPOINT S3_BUCKET S3_PREFIX              where the dumps go (prefix without slashes)
#   AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY      the bucket's key
#   BACKUP_KIND                                  daily | hourly
#   RETENTION_DAILY_DAYS (30) RETENTION_HOURLY_HOURS (24)
#   PUSH_URL (optional)                          Uptime Kuma push monitor, without a query
#   NOW (optional)                               UTC time of the dump, YYYYmmddTHHMMSSZ (tests)
#
# Objects: s3://$S3_BUCKET/$S3_PREFIX/$BACKUP_KIND/<time>.dump, pg_dump's custom format
# (compressed), and <time>.manifest: the table count and the exact row counts of the largest
# tables at dump time, which the restore drill checks the restored copy against.
set -euo pipefail

# shellcheck source=render/scripts/backup-lib.sh
. "$(dirname "$0")/backup-lib.sh"
: "${PGDATABASE:?} ${S3_ENDPOINT:?} ${S3_BUCKET:?} ${S3_PREFIX:?} ${BACKUP_KIND:?}"
keep_seconds=$(retention_seconds "$BACKUP_KIND")
LARGEST_TABLES=5

trap 'report down "backup of $PGDATABASE failed at line $LINENO"' ERR

now=${NOW:-$(date -u +%Y%m%dT%H%M%SZ)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
key="$S3_PREFIX/$BACKUP_KIND/$now"

pg_dump --format=custom --compress=6 --no-owner --file="$work/dump"
{
  printf 'tables\t%s\n' "$(psql -X -At -c "SELECT count(*) FROM pg_tables
    WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")"
  psql -X -At -F "$(printf '\t')" -c "SELECT format('%I.%I', schemaname, tablename)
    FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
    ORDER BY pg_total_relation_size(format('%I.%I', schemaname, tablename)) DESC, 1
    LIMIT $LARGEST_TABLES" \
  | while IFS= read -r table; do
      printf 'rows\t%s\t%s\n' "$table" "$(psql -X -At -c "SELECT count(*) FROM $table")"
    done
} > "$work/manifest"
pg_restore --list "$work/dump" >/dev/null  # a dump pg_restore cannot read is no backup

s3 s3 cp --only-show-errors "$work/dump" "s3://$S3_BUCKET/$key.dump"
s3 s3 cp --only-show-errors "$work/manifest" "s3://$S3_BUCKET/$key.manifest"

prune "$S3_PREFIX/$BACKUP_KIND" "$keep_seconds" "$now"

echo "backed up $PGDATABASE to s3://$S3_BUCKET/$key.dump ($(stat -c %s "$work/dump") bytes)"
report up "backup $now ok"
