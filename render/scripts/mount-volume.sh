# Mount a Hetzner Volume for a service's data (render/volumes.py): wait for its device, check it
# holds the filesystem Hetzner formatted it with (it is never formatted here, so no data can be
# lost to a mistake), install its mount unit and Docker's drop-in, mount it, grow the filesystem
# to the volume's size (after a resize; nothing otherwise) and create the service's folder.
# Safe to run again.
#
# Parameters: ROOT (/, but for the tests), DEVICE, SIZE_GB, FILESYSTEM (ext4), MOUNT_PATH,
# MOUNT_UNIT_NAME, MOUNT_UNIT (its text), DROPIN_PATH, DROPIN (its text), DATA_DIR, and
# DOCKER_VOLUME_PATTERN: a regex of the Docker volume the service kept its data in before it had
# this volume (<service uuid>_minio-data, postgres-data-<database uuid>).
set -euo pipefail
: "${ROOT:?} ${DEVICE:?} ${SIZE_GB:?} ${FILESYSTEM:?} ${MOUNT_PATH:?} ${MOUNT_UNIT_NAME:?}"
: "${MOUNT_UNIT:?}"
: "${DROPIN_PATH:?} ${DROPIN:?} ${DATA_DIR:?} ${DOCKER_VOLUME_PATTERN:?}"
root=${ROOT%/}

# Attached by Hetzner's API a moment ago: the kernel may not show it yet.
for _ in $(seq 1 60); do
  [ -e "$root$DEVICE" ] && break
  sleep 2
done
[ -e "$root$DEVICE" ] || { echo "the volume is not attached: no $DEVICE" >&2; exit 1; }
found=$(blkid -s TYPE -o value "$root$DEVICE" || true)
if [ "$found" != "$FILESYSTEM" ]; then
  echo "$DEVICE holds ${found:-no filesystem}, not $FILESYSTEM; it is not formatted here" >&2
  exit 1
fi

mkdir -p "$root$MOUNT_PATH" "$(dirname "$root$DROPIN_PATH")"
printf '%s' "$MOUNT_UNIT" > "$root/etc/systemd/system/$MOUNT_UNIT_NAME"
printf '%s' "$DROPIN" > "$root$DROPIN_PATH"
systemctl daemon-reload
systemctl enable --now --quiet "$MOUNT_UNIT_NAME"
# Online: ext4 grows while mounted.
resize2fs "$root$DEVICE" 2>&1 | { grep -v '^resize2fs [0-9.]* ' || true; }
mkdir -p "$root$DATA_DIR"

# A service that already holds data in its Docker volume would restart on the empty folder:
# its data would seem gone. Stop here, before the service changes, and say how to move it.
if [ -z "$(find "$root$DATA_DIR" -mindepth 1 -print -quit)" ] && command -v docker >/dev/null; then
  docker volume ls -q | { grep -E -- "$DOCKER_VOLUME_PATTERN" || true; } | while IFS= read -r old; do
    held=$(docker volume inspect -f '{{.Mountpoint}}' "$old")
    if [ -n "$(find "$root$held" -mindepth 1 -print -quit 2>/dev/null)" ]; then
      echo "the Docker volume $old holds the service's data, and $DATA_DIR is empty: stop" \
           "the service in Coolify, copy it (sudo cp -a $held/. $DATA_DIR/) and run pulumi up" \
           "again (README, \"Volumes and the disk budget\")" >&2
      exit 1
    fi
  done
fi
echo "$MOUNT_PATH mounted: a $SIZE_GB GB volume, $FILESYSTEM"
