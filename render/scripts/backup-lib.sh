# shellcheck shell=bash
# Shared by pg-backup.sh and pg-restore-drill.sh, which source it from their own folder.

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
