# Install an import (render/imports.py): its script and services from BUNDLE, its secrets from
# stdin, its image pulled. Nothing is imported: that is started by hand (README, "Bringing data
# in"). Safe to run again: what an earlier install put there is replaced.
#
# Parameters: ROOT (/, but for the tests), BUNDLE (base64 tar.gz, paths from /), SCRIPTS_DIR,
# SECRETS_DIR, UNIT_PREFIX (its services are <prefix>.service and <prefix>-*.service), IMAGE.
# stdin: a base64 tar.gz of its environment files that hold secrets, for SECRETS_DIR.
set -euo pipefail
: "${ROOT:?} ${BUNDLE:?} ${SCRIPTS_DIR:?} ${SECRETS_DIR:?} ${UNIT_PREFIX:?} ${IMAGE:?}"
units=${ROOT%/}/etc/systemd/system
secrets=${ROOT%/}$SECRETS_DIR

# Secrets first, readable by root only.
(umask 077 && mkdir -p "$secrets" && rm -f "$secrets"/*.env \
  && base64 -d | tar -xz -C "$secrets" --no-same-owner --no-same-permissions)
chmod 0700 "$secrets"

rm -rf "${ROOT%/}$SCRIPTS_DIR"
rm -f "$units/$UNIT_PREFIX.service" "$units/$UNIT_PREFIX"-*.service
# Files only in the bundle: existing directories keep their owner and mode.
base64 -d <<<"$BUNDLE" | (umask 022 && tar -xz -C "$ROOT" --no-same-owner --no-overwrite-dir)
docker pull --quiet "$IMAGE" >/dev/null  # not on the day of the import
systemctl daemon-reload
echo "installed: systemctl start $UNIT_PREFIX"
