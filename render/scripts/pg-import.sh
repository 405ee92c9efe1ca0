#!/usr/bin/env bash
# Import an external PostgreSQL (Supabase) into the platform's database: the schemas to take
# (all but the skipped ones, Supabase's own by default) are dumped from the source with
# pg_dump, their extensions created, and restored in one transaction; then every table's row
# count is compared with the source's. A target that already holds tables is refused unless
# IMPORT_REPLACE=yes; one that holds exactly the source's (every table, every row count) is
# left alone, so a second run changes nothing. README, "Bringing data in".
#
# Environment:
#   PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE       the platform's database (the target)
#   SOURCE_PGHOST SOURCE_PGPORT SOURCE_PGUSER SOURCE_PGPASSWORD SOURCE_PGDATABASE   the source
#   IMPORT_SCHEMAS  the schemas to take, comma-separated; "-": every one but SKIP_SCHEMAS
#   SKIP_SCHEMAS    the schemas to leave at the source, comma-separated; "-": none
#   IMPORT_REPLACE  yes: drop what the target holds in those schemas first; no: refuse it
set -euo pipefail
: "${PGDATABASE:?} ${SOURCE_PGHOST:?} ${SOURCE_PGDATABASE:?}"
: "${IMPORT_SCHEMAS:?} ${SKIP_SCHEMAS:?} ${IMPORT_REPLACE:?}"
export PGOPTIONS="-c client_min_messages=warning"  # no NOTICE for DROP ... IF EXISTS

fail() { echo "import failed: $*" >&2; exit 1; }
trap 'fail "error at line $LINENO"' ERR

# A client with the source's connection; without it, a client reaches the target.
from_source() {
  PGHOST=$SOURCE_PGHOST PGPORT=$SOURCE_PGPORT PGUSER=$SOURCE_PGUSER \
    PGPASSWORD=$SOURCE_PGPASSWORD PGDATABASE=$SOURCE_PGDATABASE "$@"
}
sql() { psql -X -At -F $'\t' -v ON_ERROR_STOP=1 "$@"; }
# A query on the schemas the import takes (the CTE `taken`), read from stdin. psql quotes the
# lists as literals (:'take'); every name that leaves the database is quoted by format('%I').
on_taken() {
  local query
  query=$(cat)
  sql -v take="$IMPORT_SCHEMAS" -v skip="$SKIP_SCHEMAS" <<SQL
WITH taken AS (
  SELECT oid, nspname FROM pg_namespace
   WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'
     AND nspname <> ALL (string_to_array(:'skip', ','))
     AND (:'take' = '-' OR nspname = ANY (string_to_array(:'take', ',')))
)
$query
SQL
}
# Each table of the taken schemas and its exact row count, one "schema.table<TAB>rows" a line.
row_counts() {
  on_taken <<'SQL'
SELECT name, (xpath('/row/n/text()', query_to_xml(
         format('SELECT count(*) AS n FROM %s', name), false, true, '')))[1]::text
  FROM (SELECT format('%I.%I', taken.nspname, c.relname) AS name
          FROM pg_class c JOIN taken ON taken.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p')) AS tables
 ORDER BY name COLLATE "C";  -- the same order on both sides, whatever their collations
SQL
}

from_source sql -c 'SELECT 1' >/dev/null \
  || fail "cannot connect to the source: check the secret config key importSourceUrl"
schemas=$(from_source on_taken <<<"SELECT format('%I', nspname) FROM taken ORDER BY 1;")
if [ "$IMPORT_SCHEMAS" != - ]; then
  IFS=, read -ra wanted <<<"$IMPORT_SCHEMAS"
  for schema in "${wanted[@]}"; do
    grep -qxF "$schema" <<<"$schemas" \
      || fail "the source has no schema $schema (imports.postgres.schemas)"
  done
fi
[ -n "$schemas" ] || fail "the source has no schema to take (imports.postgres.skipSchemas)"
echo "schemas to import: $(paste -sd ' ' <<<"$schemas")"
source_major=$(from_source sql -c "SELECT current_setting('server_version_num')::int / 10000")
target_major=$(sql -c "SELECT current_setting('server_version_num')::int / 10000")
[ "$source_major" -le "$target_major" ] \
  || fail "the source runs PostgreSQL $source_major, the platform $target_major: a dump does not" \
          "go into an older server; set services.postgres.image to PostgreSQL $source_major"

# A foreign key into a schema left behind cannot be restored: say which, before anything.
outside=$(from_source on_taken <<'SQL'
SELECT format('%s references %s', c.conrelid::regclass, c.confrelid::regclass)
  FROM pg_constraint c
  JOIN pg_class t ON t.oid = c.conrelid JOIN taken ON taken.oid = t.relnamespace
  JOIN pg_class r ON r.oid = c.confrelid
 WHERE c.contype = 'f' AND r.relnamespace NOT IN (SELECT oid FROM taken)
 ORDER BY 1;
SQL
)
[ -z "$outside" ] || fail "tables refer to schemas the import leaves behind: $(
  paste -sd ';' <<<"$outside"); take those schemas too (imports.postgres.schemas) or drop \
the constraints at the source"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
from_source row_counts > "$work/source-rows"

held=$(sql <<'SQL'
SELECT count(*) FROM pg_tables WHERE schemaname !~ '^pg_' AND schemaname <> 'information_schema';
SQL
)
if [ "$held" -gt 0 ]; then
  row_counts > "$work/target-rows"
  if [ "$IMPORT_REPLACE" != yes ]; then
    if cmp -s "$work/source-rows" "$work/target-rows"; then
      echo "already imported: $(wc -l < "$work/source-rows") tables, each with the source's row" \
           "count; nothing changed"
      exit 0
    fi
    fail "the database $PGDATABASE already holds $held tables, and not the source's rows; the" \
         "import takes an empty database. To replace what it holds in the schemas above with" \
         "the source's: systemctl start platform-import-postgres-replace"
  fi
  while IFS= read -r schema; do
    sql -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null
  done <<<"$schemas"
  sql -c "CREATE SCHEMA IF NOT EXISTS public" >/dev/null
  echo "dropped what $PGDATABASE held in those schemas"
fi

# The source's extensions, where it has them (Supabase: pgcrypto and uuid-ossp in the schema
# "extensions"), so the tables' defaults and functions find them; the dump of the taken schemas
# holds none. One the platform's PostgreSQL does not have is left out, and named.
available=$(sql -c "SELECT format('%I', name) FROM pg_available_extensions")
from_source sql -c "SELECT format('%I', e.extname), format('%I', n.nspname)
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname <> 'plpgsql' ORDER BY 1" \
  | while IFS=$'\t' read -r extension schema; do
      if grep -qxF "$extension" <<<"$available"; then
        sql -c "CREATE SCHEMA IF NOT EXISTS $schema" \
            -c "CREATE EXTENSION IF NOT EXISTS $extension WITH SCHEMA $schema" >/dev/null
      else
        echo "left out the extension $extension: the platform's PostgreSQL does not have it"
      fi
    done

dump_args=()
while IFS= read -r schema; do
  dump_args+=("--schema=$schema")
  sql -c "CREATE SCHEMA IF NOT EXISTS $schema" >/dev/null
done <<<"$schemas"
# -b: large objects too, which a dump of chosen schemas leaves out otherwise.
from_source pg_dump --format=custom --no-owner --no-acl -b "${dump_args[@]}" \
  --file="$work/source.dump" || fail "pg_dump could not dump the source"
# The schemas exist now (public always does): restore everything but their CREATE SCHEMA.
pg_restore --list "$work/source.dump" | { grep -vE '^[0-9]+; [0-9]+ [0-9]+ SCHEMA - ' || true; } \
  > "$work/contents"
# One transaction: a restore that fails leaves nothing behind.
pg_restore --no-owner --no-acl --exit-on-error --single-transaction --dbname="$PGDATABASE" \
  --use-list="$work/contents" "$work/source.dump" \
  || fail "the restore into $PGDATABASE failed (above); nothing was kept"

# Verified against the source as it is now: a difference means it changed meanwhile.
row_counts > "$work/target-rows"
from_source row_counts > "$work/source-rows"
if ! cmp -s "$work/source-rows" "$work/target-rows"; then
  differences=$(LC_ALL=C join -t $'\t' -a 1 -a 2 -e none -o 0,1.2,2.2 "$work/source-rows" \
    "$work/target-rows" | awk -F '\t' '$2 != $3 { print $1 ": " $2 " at the source, " $3 " imported" }')
  fail "the row counts differ: $(paste -sd ';' <<<"$differences"). Did something write to the" \
       "source meanwhile? Stop its writers and run platform-import-postgres-replace"
fi
echo "imported $(wc -l < "$work/source-rows") tables into $PGDATABASE; each has the source's row" \
     "count:"
cat "$work/source-rows"
