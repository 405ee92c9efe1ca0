# Runs once in a MinIO container after the server is healthy (POSIX sh). Creates the buckets
# with their access policy, and one user per app whose policy names its buckets only. Safe to
# run again: every step converges.
# Environment: MC_HOST_platform (mc's alias, with the root credentials), BUCKETS
# ("name:access ..."), APPS ("name:accesskey:secretkey ..."), SETUP_DIR (where the policy
# documents are mounted: bucket-<name>.json for public buckets, app-<name>.json).
set -eu
: "${MC_HOST_platform:?}" "${SETUP_DIR:?}"

for spec in ${BUCKETS:-}; do
  bucket=${spec%%:*}
  access=${spec#*:}
  mc mb --ignore-existing "platform/$bucket"
  if [ "$access" = public-read ]; then
    mc anonymous set-json "$SETUP_DIR/bucket-$bucket.json" "platform/$bucket"
  else
    mc anonymous set private "platform/$bucket"
  fi
done

for spec in ${APPS:-}; do
  name=${spec%%:*}
  rest=${spec#*:}
  key=${rest%%:*}
  secret=${rest#*:}
  mc admin policy create platform "app-$name" "$SETUP_DIR/app-$name.json"
  # Without the secret as an argument, mc reads it from stdin: it stays off command lines.
  printf '%s\n' "$secret" | mc admin user add platform "$key" >/dev/null
  if ! mc admin user info platform "$key" | grep -q "app-$name"; then
    mc admin policy attach platform "app-$name" --user "$key"
  fi
done
echo "MinIO buckets and app users are in place"
