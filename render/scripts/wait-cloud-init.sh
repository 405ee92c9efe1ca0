# Wait until cloud-init has finished the first boot. Exit 2 means done with recoverable
# errors (cloud-init >= 23.4); only 1 is a failure. Then print the server's host key, the
# only output, which every later SSH connection pins.
set -u
: "${HOST_KEY_FILE:?}"
rc=0
timeout 1200 cloud-init status --wait >/dev/null 2>&1 || rc=$?
if [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ]; then
  echo "cloud-init finished (status $rc)" >&2
  cut -d ' ' -f 1,2 "$HOST_KEY_FILE"
  exit 0
fi
echo "cloud-init failed (status $rc):" >&2
cloud-init status --long >&2 || true
tail -n 50 /var/log/cloud-init-output.log >&2 || true
exit 1
