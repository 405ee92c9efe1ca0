#!/usr/bin/env bash
# Runs the tool this link is named after (aws, pg_dump, pg_restore, psql, mariadb,
# mariadb-dump or rclone) in its pinned container, so the host needs nothing but Docker: the
# database's tools from the database's own image on Coolify's network (where the database's
# hostname is its Coolify uuid), the AWS CLI from its image, rclone on Coolify's network too
# (to reach MinIO). Docker copies each variable named by `-e NAME` from this environment, so
# no value (and no secret) is ever part of a command line. $TMPDIR is mounted at its own path:
# the scripts keep their files there.
#
# Environment: PG_CLIENT_IMAGE MARIADB_CLIENT_IMAGE AWS_CLI_IMAGE RCLONE_IMAGE DOCKER_NETWORK
# TMPDIR, and the tools' own.
set -euo pipefail

tool=$(basename "$0")
case "$tool" in
  aws)
    image=${AWS_CLI_IMAGE:?}
    network=host
    names=(AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION
           AWS_REQUEST_CHECKSUM_CALCULATION AWS_RESPONSE_CHECKSUM_VALIDATION)
    ;;
  pg_dump | pg_restore | psql)
    image=${PG_CLIENT_IMAGE:?}
    network=${DOCKER_NETWORK:?}
    names=(PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE PGOPTIONS)
    ;;
  mariadb | mariadb-dump)
    image=${MARIADB_CLIENT_IMAGE:?}
    network=${DOCKER_NETWORK:?}
    names=(MYSQL_PWD)  # host, port and user are arguments; the password is read from here
    ;;
  rclone)
    image=${RCLONE_IMAGE:?}
    network=${DOCKER_NETWORK:?}
    # Its remotes (RCLONE_CONFIG_<REMOTE>_*) and the off-site keys, whatever is set.
    mapfile -t names < <(compgen -e | grep -E '^(RCLONE_CONFIG_|AWS_)')
    ;;
  *)
    echo "container-tool: no container for $tool" >&2
    exit 2
    ;;
esac

passed=()
for name in "${names[@]}"; do
  passed+=(-e "$name")
done
exec docker run --rm -i --network "$network" --user 0:0 \
  --volume "${TMPDIR:?}:$TMPDIR" --workdir "$TMPDIR" \
  "${passed[@]}" --entrypoint "$tool" "$image" "$@"
