# Install Coolify $VERSION unattended; a rerun with nothing changed does nothing.
# The root user's password arrives on stdin (one line), never on a command line.
set -euo pipefail
: "${VERSION:?}" "${SCRIPT_SHA256:?}" "${ROOT_USERNAME:?}" "${ROOT_USER_EMAIL:?}"
: "${POOL_BASE:?}" "${COOLIFY_DIR:?}" "${CUSTOM_COMPOSE:?}"
IFS= read -r ROOT_USER_PASSWORD || true

# The compose override (Coolify's ports) goes in before install.sh runs, which includes it.
source_dir="$COOLIFY_DIR/source"
custom="$source_dir/docker-compose.custom.yml"
mkdir -p "$source_dir"
wanted=$(printf '%s' "$CUSTOM_COMPOSE" | base64 -d)
custom_changed=false
if [ ! -f "$custom" ] || [ "$(cat "$custom")" != "$wanted" ]; then
  printf '%s\n' "$wanted" >"$custom"
  custom_changed=true
fi

image=$(docker inspect --format '{{.Config.Image}}' coolify 2>/dev/null || true)
health=$(docker inspect --format '{{.State.Health.Status}}' coolify 2>/dev/null || true)
if [ "$custom_changed" = false ] && [ "${image##*:}" = "$VERSION" ] && [ "$health" = healthy ]; then
  echo "Coolify $VERSION is installed and healthy: nothing to do"
  exit 0
fi

# The installer of the pinned tag, not the CDN's always-latest copy, checked before it runs.
installer=$(mktemp)
keys_before=$(mktemp)
trap 'rm -f "$installer" "$keys_before"' EXIT
curl -fsSL --retry 5 -o "$installer" \
  "https://raw.githubusercontent.com/coollabsio/coolify/v$VERSION/scripts/install.sh"
if ! echo "$SCRIPT_SHA256  $installer" | sha256sum --check --quiet -; then
  echo "install.sh of Coolify $VERSION does not match its pinned sha256; not running it" >&2
  exit 1
fi
export USER=root AUTOUPDATE=false ROOT_USERNAME ROOT_USER_EMAIL ROOT_USER_PASSWORD
export DOCKER_ADDRESS_POOL_BASE="$POOL_BASE" DOCKER_ADDRESS_POOL_SIZE=24
# install.sh's own output goes to a root-only log on the server, not into this step's output:
# pulumi-command prints a failed step's whole output, and install.sh echoes its settings.
log="$source_dir/install-by-pulumi.log"
(umask 077 && touch "$log")
echo "--- $(date -u +%FT%TZ) install.sh of Coolify $VERSION" >>"$log"
# On a first install, install.sh deletes every line of root's authorized_keys that contains
# "coolify" before it adds its own key, comment "coolify" (scripts/install.sh:907-908 at
# v4.3.10): an admin key with "coolify" anywhere in it would be gone. Whatever it took is put
# back, failed or not, except an earlier key of Coolify's own.
keys="$HOME/.ssh/authorized_keys"
if [ -f "$keys" ]; then cp "$keys" "$keys_before"; fi
installed=true
bash "$installer" "$VERSION" >>"$log" 2>&1 || installed=false
while IFS= read -r line; do
  case "$line" in *" coolify" | "") continue ;; esac
  if ! grep -qxF -- "$line" "$keys" 2>/dev/null; then
    printf '%s\n' "$line" >>"$keys"
    echo "put back a key install.sh removed from root's authorized_keys: ${line##* }"
  fi
done <"$keys_before"
if [ "$installed" = false ]; then
  echo "Coolify's install.sh failed; its output is in $log on the server" >&2
  exit 1
fi

# install.sh exits 0 after some failures: judge by the result.
health=$(docker inspect --format '{{.State.Health.Status}}' coolify 2>/dev/null || true)
if [ "$health" != healthy ]; then
  echo "Coolify is not healthy after the install (status: ${health:-no container});" \
    "install.sh's output is in $log on the server" >&2
  exit 1
fi
echo "Coolify $VERSION installed"
