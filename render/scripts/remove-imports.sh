# Remove an import (dropped from the config): its services, script, secrets and working folder.
# What it imported stays.
#
# Parameters: ROOT (/, but for the tests), SCRIPTS_DIR, SECRETS_DIR, UNIT_PREFIX.
set -euo pipefail
: "${ROOT:?} ${SCRIPTS_DIR:?} ${SECRETS_DIR:?} ${UNIT_PREFIX:?}"
units=${ROOT%/}/etc/systemd/system
rm -f "$units/$UNIT_PREFIX.service" "$units/$UNIT_PREFIX"-*.service
systemctl daemon-reload
rm -rf "${ROOT%/}$SCRIPTS_DIR" "${ROOT%/}$SECRETS_DIR" "${ROOT%/}/var/lib/$UNIT_PREFIX"
echo "removed $UNIT_PREFIX; what it imported stays"
