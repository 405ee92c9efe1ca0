# Install the backup jobs: scripts and systemd timers from BUNDLE, the secrets from stdin,
# then check the off-site bucket can be reached with them. Safe to run again: files are
# replaced, the timers of jobs no longer configured are stopped and removed.
#
# Parameters: ROOT (/, but for the tests), BUNDLE (base64 tar.gz, paths from /), SCRIPTS_DIR
# (where it puts the scripts), UNIT_PREFIX, SECRETS_DIR, DB_CLIENT_IMAGE, AWS_CLI_IMAGE and
# RCLONE_IMAGE (the containers the jobs run their tools in), OFFSITE_ENV (the environment file with the off-site
# keys), S3_ENDPOINT, S3_BUCKET, S3_REGION.
# stdin: a base64 tar.gz of the environment files that hold secrets, for SECRETS_DIR.
set -euo pipefail
: "${ROOT:?} ${BUNDLE:?} ${SCRIPTS_DIR:?} ${UNIT_PREFIX:?} ${SECRETS_DIR:?}"
: "${DB_CLIENT_IMAGE:?} ${AWS_CLI_IMAGE:?} ${RCLONE_IMAGE:?}"
: "${OFFSITE_ENV:?} ${S3_ENDPOINT:?} ${S3_BUCKET:?} ${S3_REGION:?}"
units=${ROOT%/}/etc/systemd/system
secrets=${ROOT%/}$SECRETS_DIR
bundle=$(mktemp)
trap 'rm -f "$bundle"' EXIT
base64 -d <<<"$BUNDLE" > "$bundle"

# Secrets first, readable by root only.
(umask 077 && mkdir -p "$secrets" && rm -f "$secrets"/*.env \
  && base64 -d | tar -xz -C "$secrets" --no-same-owner --no-same-permissions)
chmod 0700 "$secrets"

# Jobs that left the config: stop their timers and remove their units.
for timer in "$units/$UNIT_PREFIX"*.timer; do
  [ -e "$timer" ] || continue
  if ! tar -tzf "$bundle" | grep -qxF "etc/systemd/system/$(basename "$timer")"; then
    systemctl disable --now "$(basename "$timer")"
    rm -f "$timer" "${timer%.timer}.service"
    echo "removed $(basename "$timer")"
  fi
done

# Files only in the bundle: existing directories keep their owner and mode.
(umask 022 && tar -xzf "$bundle" -C "$ROOT" --no-same-owner --no-overwrite-dir)
# Pulled now, so a job never waits for (or fails on) a registry at 03:00.
docker pull --quiet "$DB_CLIENT_IMAGE" >/dev/null
docker pull --quiet "$AWS_CLI_IMAGE" >/dev/null
docker pull --quiet "$RCLONE_IMAGE" >/dev/null

# The first dump must not be the first test of the keys: fail now, loudly.
(
  set -a
  # shellcheck source=/dev/null
  . "${ROOT%/}$OFFSITE_ENV"
  set +a
  export PATH="${ROOT%/}$SCRIPTS_DIR/bin:$PATH" TMPDIR=/tmp AWS_DEFAULT_REGION="$S3_REGION" \
    AWS_CLI_IMAGE
  # shellcheck source=render/scripts/backup-lib.sh
  . "${ROOT%/}$SCRIPTS_DIR/backup-lib.sh"
  s3 s3api head-bucket --bucket "$S3_BUCKET" \
    || { echo "the off-site bucket $S3_BUCKET at $S3_ENDPOINT cannot be reached with the" \
              "keys backupAccessKeyId and backupSecretAccessKey" >&2; exit 1; }
)

systemctl daemon-reload
tar -tzf "$bundle" | { grep -E "^etc/systemd/system/${UNIT_PREFIX}[^/]*\.timer$" || true; } \
  | while IFS= read -r timer; do
      systemctl enable --quiet "$(basename "$timer")"
      systemctl restart "$(basename "$timer")"  # picks up a changed schedule
    done
echo "backup jobs installed: $(systemctl list-timers --all --no-legend "$UNIT_PREFIX*" | wc -l) timers"
