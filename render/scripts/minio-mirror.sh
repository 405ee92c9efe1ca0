#!/usr/bin/env bash
# Mirror MinIO's buckets to off-site storage, daily: each bucket to <prefix>/current/<bucket>.
# What a run deletes or replaces there moves to <prefix>/deleted/<YYYYmmdd>/<bucket> and is
# kept RETENTION_DAYS, so a file deleted by mistake can be fetched back for that long. Any
# failure exits non-zero and reports "down" to monitoring.
#
# Environment (secrets only here, never in arguments):
#   MINIO_BUCKETS                       the buckets, comma-separated
#   S3_BUCKET S3_PREFIX                 where the mirror goes (prefix without slashes)
#   RCLONE_CONFIG_MINIO_*               rclone's remote "minio" (with its root key)
#   RCLONE_CONFIG_OFFSITE_*             rclone's remote "offsite" (keys: AWS_ACCESS_KEY_ID and
#                                       AWS_SECRET_ACCESS_KEY, with ..._ENV_AUTH=true)
#   RETENTION_DAYS (30)  PUSH_URL (optional)  TODAY (optional: YYYYmmdd, for the tests)
set -euo pipefail

# shellcheck source=render/scripts/backup-lib.sh
. "$(dirname "$0")/backup-lib.sh"
: "${MINIO_BUCKETS:?} ${S3_BUCKET:?} ${S3_PREFIX:?}"
trap 'report down "minio mirror failed at line $LINENO"' ERR

today=${TODAY:-$(date -u +%Y%m%d)}
offsite="offsite:$S3_BUCKET/$S3_PREFIX"
IFS=, read -r -a buckets <<<"$MINIO_BUCKETS"
for bucket in "${buckets[@]}"; do
  rclone sync --fast-list --stats-one-line --stats-log-level NOTICE "minio:$bucket" \
    "$offsite/current/$bucket" --backup-dir "$offsite/deleted/$today/$bucket"
done

# Retention: by the date in each folder's name.
cutoff=$(date -u -d "$today - ${RETENTION_DAYS:-30} days" +%Y%m%d)
rclone lsf --dirs-only "$offsite/deleted/" | tr -d / | { grep -E '^[0-9]{8}$' || true; } \
  | while IFS= read -r day; do
      if [ "$day" -lt "$cutoff" ]; then
        rclone purge "$offsite/deleted/$day"
        echo "deleted $S3_PREFIX/deleted/$day (older than its retention)"
      fi
    done

echo "mirrored ${buckets[*]} to s3://$S3_BUCKET/$S3_PREFIX/current/"
report up "mirror $today ok"
