# Remove the backup jobs (the stack no longer configures backups): stop and remove their
# timers and units, their scripts and their secrets. The dumps off-site are left alone.
#
# Parameters: ROOT (/, but for the tests), SCRIPTS_DIR, UNIT_PREFIX, SECRETS_DIR.
set -euo pipefail
: "${ROOT:?} ${SCRIPTS_DIR:?} ${UNIT_PREFIX:?} ${SECRETS_DIR:?}"
units=${ROOT%/}/etc/systemd/system
for timer in "$units/$UNIT_PREFIX"*.timer; do
  [ -e "$timer" ] || continue
  systemctl disable --now "$(basename "$timer")"
done
rm -f "$units/$UNIT_PREFIX"*  # the timers, their services, and the restore template
systemctl daemon-reload
rm -rf "${ROOT%/}$SCRIPTS_DIR" "${ROOT%/}$SECRETS_DIR"
echo "backup jobs removed; the dumps off-site are kept"
