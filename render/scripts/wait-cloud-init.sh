# Wait until cloud-init has finished the first boot. Exit 2 means done with recoverable
# errors (cloud-init >= 23.4); only 1 is a failure. (The host key this connection pinned is
# the one the stack generated and cloud-init installed.)
set -u
rc=0
timeout 1200 cloud-init status --wait >/dev/null 2>&1 || rc=$?
if [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ]; then
  echo "cloud-init finished (status $rc)"
  exit 0
fi
echo "cloud-init failed (status $rc):" >&2
cloud-init status --long >&2 || true
tail -n 50 /var/log/cloud-init-output.log >&2 || true
exit 1
