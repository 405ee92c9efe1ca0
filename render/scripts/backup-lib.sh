# shellcheck shell=bash
# Shared by the backup jobs' scripts, which source it from their own folder.
# Needs S3_ENDPOINT and S3_BUCKET; PUSH_URL optional.

# Backblaze B2 rejects the checksum headers newer AWS clients send by default.
export AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED
export AWS_RESPONSE_CHECKSUM_VALIDATION=WHEN_REQUIRED

s3() { aws --endpoint-url "$S3_ENDPOINT" "$@"; }

report() {  # report <up|down> <message>: to the Uptime Kuma push monitor, when there is one
  [ -n "${PUSH_URL:-}" ] || return 0
  local message
  message=$(printf '%s' "$2" | head -c 200 | tr -c 'A-Za-z0-9._-' '_')
  # The push URL holds the monitor's token: given to curl on stdin, not as an argument.
  printf 'url = "%s?status=%s&msg=%s"\n' "$PUSH_URL" "$1" "$message" \
    | curl -fsS --max-time 20 --retry 3 --config - >/dev/null || true
}

retention_seconds() {  # retention_seconds <daily|hourly>: how long a dump of that kind is kept
  case "$1" in
    daily) echo $((${RETENTION_DAILY_DAYS:-30} * 86400)) ;;
    hourly) echo $((${RETENTION_HOURLY_HOURS:-24} * 3600)) ;;
    *) echo "BACKUP_KIND must be daily or hourly, not $1" >&2; exit 2 ;;
  esac
}

stamp_epoch() {  # YYYYmmddTHHMMSSZ -> seconds since 1970
  local t=$1
  date -u -d "${t:0:4}-${t:4:2}-${t:6:2} ${t:9:2}:${t:11:2}:${t:13:2}" +%s
}

keys_under() {  # keys_under <prefix>: every key below it, one per line
  s3 s3api list-objects-v2 --bucket "$S3_BUCKET" --prefix "$1/" --query 'Contents[].Key' \
      --output text | tr '\t' '\n' | { grep -v '^None$' || true; }
}

prune() {  # prune <folder> <keep seconds> <now>: delete its <time>.* objects older than that
  local cutoff old stamp
  cutoff=$(( $(stamp_epoch "$3") - $2 ))
  # By the time in each object's name, so a re-upload never extends a dump's life.
  keys_under "$1" | { grep -E '/[0-9]{8}T[0-9]{6}Z\.[a-z.]+$' || true; } \
    | while IFS= read -r old; do
        stamp=${old##*/}
        if [ "$(stamp_epoch "${stamp%%.*}")" -lt "$cutoff" ]; then
          s3 s3 rm --only-show-errors "s3://$S3_BUCKET/$old"
          echo "deleted $old (older than its retention)"
        fi
      done
}

newest() {  # newest <prefix> <extension>: the newest <time><extension> below it, by its time
  keys_under "$1" | { grep -E "/[0-9]{8}T[0-9]{6}Z\\$2\$" || true; } \
    | awk -F/ '{ print $NF "\t" $0 }' | sort | tail -n 1 | cut -f 2
}

check_manifest() {  # check_manifest <manifest> <table name regex> <dump>: the restored copy
  # Calls the script's own `count_tables` and `count_rows <table>`, and its `fail`; sets
  # `tables` to the table count. A table name from the manifest goes into SQL: only one that
  # matches the regex (quoted identifiers) is accepted.
  local manifest=$1 identifier=$2 key=$3 expected kind table rows restored
  tables=$(count_tables)
  expected=$(awk -F '\t' '$1 == "tables" { print $2 }' "$manifest")
  [ "$tables" = "$expected" ] || fail "$key restored $tables tables, the dump had $expected"
  while IFS=$'\t' read -r kind table rows; do
    [ "$kind" = rows ] || continue
    grep -qxE "$identifier" <<<"$table" || fail "the manifest names no table: $table"
    [[ "$rows" =~ ^[0-9]+$ ]] || fail "the manifest gives no row count for $table"
    restored=$(count_rows "$table")
    [ "$restored" = "$rows" ] || fail "$table has $restored rows restored, $rows at dump time"
  done < "$manifest"
}
