#!/usr/bin/env bash
# Import an external PostgreSQL (Supabase) into the platform's database: the schemas to take
# (all but the skipped ones, Supabase's own by default) are dumped from the source with
# pg_dump and restored in one transaction, with the extensions they use and the roles their
# policies name; then every table's row count (and the number of large objects) is compared
# with the source's. A target that already holds tables is refused unless IMPORT_REPLACE=yes;
# one that holds exactly the source's is left alone, so a second run changes nothing. A
# replace drops what the target held in those schemas in the restore's own transaction: if
# the restore fails, the target keeps what it had. README, "Bringing data in".
#
# Environment:
#   PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE       the platform's database (the target)
#   SOURCE_PGHOST SOURCE_PGPORT SOURCE_PGUSER SOURCE_PGPASSWORD SOURCE_PGDATABASE
#   SOURCE_PGSSLMODE                                 the source (its URL's parts)
#   IMPORT_SCHEMAS  the schemas to take, comma-separated; "-": every one but SKIP_SCHEMAS
#   SKIP_SCHEMAS    the schemas to leave at the source, comma-separated; "-": none
#   IMPORT_REPLACE  yes: replace what the target holds in those schemas; no: refuse it
set -Eeuo pipefail
: "${PGDATABASE:?} ${SOURCE_PGHOST:?} ${SOURCE_PGDATABASE:?} ${SOURCE_PGSSLMODE:?}"
: "${IMPORT_SCHEMAS:?} ${SKIP_SCHEMAS:?} ${IMPORT_REPLACE:?}"
export PGOPTIONS="-c client_min_messages=warning"  # no NOTICE for DROP ... IF EXISTS

fail() { echo "import failed: $*" >&2; exit 1; }
trap 'fail "error at line $LINENO"' ERR

# A client with the source's connection; without it, a client reaches the target.
from_source() {
  PGHOST=$SOURCE_PGHOST PGPORT=$SOURCE_PGPORT PGUSER=$SOURCE_PGUSER \
    PGPASSWORD=$SOURCE_PGPASSWORD PGDATABASE=$SOURCE_PGDATABASE PGSSLMODE=$SOURCE_PGSSLMODE "$@"
}
sql() { psql -X -At -F $'\t' -v ON_ERROR_STOP=1 "$@"; }
lines() { [ "$1" = - ] || tr ',' '\n' <<<"$1"; }  # a comma list ("-": none), one name a line
# A query on the schemas the import takes (the CTE `taken`), read from stdin; `take` and
# `skip` are lists of plain schema names, one a line ("" for take: every one not skipped).
# psql quotes them as literals (:'take'); every name that leaves the database is quoted by
# format('%I').
on_taken() {
  local take=$1 skip=$2 query
  query=$(cat)
  sql -v take="$take" -v skip="$skip" <<SQL
WITH taken AS (
  SELECT oid, nspname FROM pg_namespace
   WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'
     AND nspname <> ALL (string_to_array(:'skip', E'\n'))
     AND (:'take' = '' OR nspname = ANY (string_to_array(:'take', E'\n')))
)
$query
SQL
}
# Each table of the schemas and its exact row count, one "schema.table<TAB>rows" a line, then
# the number of large objects (which belong to no schema, and come with the dump).
contents_of() {
  on_taken "$1" "" <<'SQL'
SELECT name, (xpath('/row/n/text()', query_to_xml(
         format('SELECT count(*) AS n FROM %s', name), false, true, '')))[1]::text
  FROM (SELECT format('%I.%I', taken.nspname, c.relname) AS name
          FROM pg_class c JOIN taken ON taken.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p')) AS tables
 ORDER BY name COLLATE "C";  -- the same order on both sides, whatever their collations
SELECT '(large objects)', count(*) FROM pg_largeobject_metadata;
SQL
}

tables_in() { awk -F '\t' '$1 != "(large objects)"' "$1" | wc -l; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
from_source sql -c 'SELECT 1' >/dev/null \
  || fail "cannot connect to the source: check the secret config key importSourceUrl"
# The schemas taken, by their plain names (compared with the config's) and quoted (for SQL).
from_source on_taken "$(lines "$IMPORT_SCHEMAS")" "$(lines "$SKIP_SCHEMAS")" \
  <<<"SELECT nspname, format('%I', nspname) FROM taken ORDER BY 1;" > "$work/schemas"
mapfile -t names < <(cut -f1 "$work/schemas")
mapfile -t quoted < <(cut -f2 "$work/schemas")
while IFS= read -r schema; do
  cut -f1 "$work/schemas" | grep -qxF "$schema" \
    || fail "the source has no schema $schema (imports.postgres.schemas)"
done < <(lines "$IMPORT_SCHEMAS")
[ "${#names[@]}" -gt 0 ] || fail "the source has no schema to take (imports.postgres.skipSchemas)"
taken=$(printf '%s\n' "${names[@]}")
echo "schemas to import: ${quoted[*]}"
source_major=$(from_source sql -c "SELECT current_setting('server_version_num')::int / 10000")
target_major=$(sql -c "SELECT current_setting('server_version_num')::int / 10000")
[ "$source_major" -le "$target_major" ] \
  || fail "the source runs PostgreSQL $source_major, the platform $target_major: a dump does not" \
          "go into an older server; set services.postgres.image to PostgreSQL $source_major"

# A foreign key into a schema left behind cannot be restored: say which, before anything.
outside=$(from_source on_taken "$taken" "" <<'SQL'
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

from_source contents_of "$taken" > "$work/source-contents"

held=$(sql <<'SQL'
SELECT count(*) FROM pg_tables WHERE schemaname !~ '^pg_' AND schemaname <> 'information_schema';
SQL
)
replacing=no
if [ "$held" -gt 0 ]; then
  contents_of "$taken" > "$work/target-contents"
  if [ "$IMPORT_REPLACE" != yes ]; then
    if cmp -s "$work/source-contents" "$work/target-contents"; then
      echo "already imported: $(tables_in "$work/source-contents") tables," \
           "each with the source's row count; nothing changed"
      exit 0
    fi
    fail "the database $PGDATABASE already holds $held tables, and not the source's rows; the" \
         "import takes an empty database. To replace what it holds in the schemas above with" \
         "the source's: systemctl start platform-import-postgres-replace"
  fi
  replacing=yes
fi

# -b: large objects too, which a dump of chosen schemas leaves out otherwise.
dump_args=()
for schema in "${names[@]}"; do dump_args+=("--schema=$schema"); done
from_source pg_dump --format=custom --no-owner --no-acl -b "${dump_args[@]}" \
  --file="$work/source.dump" || fail "pg_dump could not dump the source"
# The script below creates the schemas (public always exists): restore all but their CREATE.
pg_restore --list "$work/source.dump" | { grep -vE '^[0-9]+; [0-9]+ [0-9]+ SCHEMA - ' || true; } \
  > "$work/contents"

# What the restore needs first, as SQL of its own transaction. The source's extensions
# (Supabase: pgcrypto and uuid-ossp in the schema "extensions"), so the tables' defaults and
# functions find them; one the platform's PostgreSQL lacks is left out, and named.
available=$(sql -c "SELECT name FROM pg_available_extensions")
from_source sql -c "SELECT e.extname, format('%I', e.extname), format('%I', n.nspname)
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname <> 'plpgsql' ORDER BY 1" > "$work/extensions"
# The roles the policies name (Supabase: anon, authenticated, service_role): a policy cannot
# be created for a role that does not exist. Made without login and granted nothing, they
# only let the policies be restored as they were.
roles=$(from_source on_taken "$taken" "" <<'SQL'
SELECT DISTINCT r.rolname
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN taken ON taken.oid = c.relnamespace
  CROSS JOIN LATERAL unnest(p.polroles) AS named(oid) JOIN pg_roles r ON r.oid = named.oid
 ORDER BY 1;
SQL
)
large_objects=$(from_source sql -c "SELECT string_agg(oid::text, ',') FROM pg_largeobject_metadata")
{
  if [ "$replacing" = yes ]; then
    for schema in "${quoted[@]}"; do echo "DROP SCHEMA IF EXISTS $schema CASCADE;"; done
    # Large objects belong to no schema: those the source has go, to come back from the dump.
    [ -z "$large_objects" ] || echo "SELECT lo_unlink(oid) FROM pg_largeobject_metadata" \
      "WHERE oid = ANY ('{$large_objects}'::oid[]);"
  fi
  for schema in "${quoted[@]}"; do echo "CREATE SCHEMA IF NOT EXISTS $schema;"; done
  while IFS=$'\t' read -r name extension schema; do
    if grep -qxF "$name" <<<"$available"; then
      echo "CREATE SCHEMA IF NOT EXISTS $schema;"
      echo "CREATE EXTENSION IF NOT EXISTS $extension WITH SCHEMA $schema;"
    fi
  done < "$work/extensions"
  cat <<'SQL'
SELECT format('CREATE ROLE %I NOLOGIN', name) FROM unnest(string_to_array(:'roles', E'\n')) AS name
 WHERE name <> '' AND NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name)
\gexec
SQL
} > "$work/prepare.sql"
while IFS=$'\t' read -r name _; do
  grep -qxF "$name" <<<"$available" \
    || echo "left out the extension $name: the platform's PostgreSQL does not have it"
done < "$work/extensions"
[ -z "$roles" ] || echo "roles the policies name, created without login where missing:" \
  "$(paste -sd ' ' <<<"$roles")"

# One transaction: the drops of a replace, the schemas, the extensions, the roles and the
# restore (as SQL from pg_restore) commit together or not at all; a failed statement is shown.
pg_restore --no-owner --no-acl --use-list="$work/contents" --file="$work/restore.sql" \
  "$work/source.dump"
sql -q --echo-errors -v roles="$roles" --single-transaction -f "$work/prepare.sql" -f "$work/restore.sql" \
  >/dev/null || fail "the restore into $PGDATABASE failed (above); nothing was kept"
[ "$replacing" = no ] || echo "replaced what $PGDATABASE held in those schemas"

# Verified against the source as it is now: a difference means it changed meanwhile.
contents_of "$taken" > "$work/target-contents"
from_source contents_of "$taken" > "$work/source-contents"
if ! cmp -s "$work/source-contents" "$work/target-contents"; then
  differences=$(LC_ALL=C join -t $'\t' -a 1 -a 2 -e none -o 0,1.2,2.2 \
    "$work/source-contents" "$work/target-contents" \
    | awk -F '\t' '$2 != $3 { print $1 ": " $2 " at the source, " $3 " imported" }')
  fail "the contents differ: $(paste -sd ';' <<<"$differences"). Did something write to the" \
       "source meanwhile? Stop its writers and run platform-import-postgres-replace"
fi
echo "imported $(tables_in "$work/source-contents") tables into $PGDATABASE;" \
     "each has the source's row count:"
cat "$work/source-contents"
