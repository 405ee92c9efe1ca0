#!/usr/bin/env bash
# Import S3 buckets (Supabase Storage's S3 endpoint) into MinIO: each source bucket is copied
# into its MinIO bucket with rclone, which leaves alone what is there already with the same
# size and time (so a second run copies nothing), then verified: every object of the source is
# in MinIO with its size (and its MD5 where both sides give one), and the objects found there
# add up to the source's count and bytes. Objects only in MinIO are kept. README, "Bringing
# data in".
#
# Environment: IMPORT_BUCKETS (source:target,...), and rclone's remotes "source" and "minio"
# (RCLONE_CONFIG_SOURCE_*, RCLONE_CONFIG_MINIO_*, keys included).
set -euo pipefail
: "${IMPORT_BUCKETS:?}"

fail() { echo "import failed: $*" >&2; exit 1; }
trap 'fail "error at line $LINENO"' ERR

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

size_of() {  # size_of <rclone arguments>: "<objects> <bytes>"
  rclone size --json "$@" | sed -E 's/.*"count":([0-9]+).*"bytes":([0-9]+).*/\1 \2/'
}

IFS=, read -ra pairs <<<"$IMPORT_BUCKETS"
for pair in "${pairs[@]}"; do
  from=${pair%%:*} to=${pair#*:}
  source_size=$(size_of "source:$from") \
    || fail "cannot list the bucket $from at the source: check imports.buckets and the keys" \
            "importAccessKeyId and importSecretAccessKey"
  rclone copy --stats-one-line --stats 0 "source:$from" "minio:$to" \
    || fail "copying $from into MinIO's $to failed"
  rclone check --one-way --match "$work/matched" "source:$from" "minio:$to" 2>"$work/check" \
    || { cat "$work/check" >&2; fail "MinIO's $to lacks objects of $from, or holds them changed"; }
  copied_size=$(size_of --files-from-raw "$work/matched" "minio:$to")
  [ "$copied_size" = "$source_size" ] \
    || fail "$from has ${source_size/ / objects, } bytes; MinIO's $to holds" \
            "${copied_size/ / objects, } bytes of them"
  echo "$from -> $to: ${source_size/ / objects, } bytes, every object in MinIO with its size"
done
