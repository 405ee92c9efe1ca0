# Make Coolify manageable as code: its root user exists, the API is on, the platform's API
# token is known to it (only the token's sha256 reaches the database), and the dashboard
# answers at $INSTANCE_URL. The token arrives on stdin; a rerun with nothing changed does
# nothing.
set -euo pipefail
: "${INSTANCE_URL:?}"
IFS= read -r TOKEN || true
if [ -z "$TOKEN" ]; then
  echo "no API token on stdin" >&2
  exit 1
fi

ready=false
for _ in $(seq 1 60); do
  if docker exec coolify curl -fsS http://127.0.0.1:8080/api/health >/dev/null 2>&1; then
    ready=true
    break
  fi
  sleep 5
done
if [ "$ready" != true ]; then
  echo "Coolify's API did not answer /api/health within 5 minutes" >&2
  exit 1
fi

query() { docker exec -i coolify-db psql -v ON_ERROR_STOP=1 -U coolify -d coolify -tA "$@"; }

# install.sh seeds the root user only when its values pass Coolify's rules; try again once.
if [ "$(query -c 'SELECT count(*) FROM users WHERE id = 0')" != 1 ]; then
  docker exec coolify php artisan db:seed --class=RootUserSeeder --force
  if [ "$(query -c 'SELECT count(*) FROM users WHERE id = 0')" != 1 ]; then
    echo "Coolify's root user does not exist; see: docker logs coolify" >&2
    exit 1
  fi
fi

hash=$(printf '%s' "$TOKEN" | sha256sum | cut -d ' ' -f 1)
if [ "$(query -c "SELECT count(*) FROM personal_access_tokens WHERE token = '$hash'")" != 1 ]; then
  query <<SQL
UPDATE instance_settings SET is_api_enabled = true WHERE id = 0;
DELETE FROM personal_access_tokens WHERE name = 'pulumi';
INSERT INTO personal_access_tokens
  (tokenable_type, tokenable_id, name, token, team_id, abilities, created_at, updated_at)
VALUES ('App\Models\User', 0, 'pulumi', '$hash', '0', '["root"]', now(), now());
SQL
  echo "API enabled with the platform's token"
fi

if [ "$(query -c "SELECT coalesce(fqdn, '') FROM instance_settings WHERE id = 0")" != "$INSTANCE_URL" ]; then
  docker exec coolify php artisan tinker --execute "\$s = App\\Models\\InstanceSettings::get(); \$s->fqdn = '$INSTANCE_URL'; \$s->save(); App\\Models\\Server::find(0)->setupDynamicProxyConfiguration();"
  echo "dashboard set to $INSTANCE_URL"
fi

# The token works: ask for the version with it (the header goes on stdin, not argv).
printf 'Authorization: Bearer %s\n' "$TOKEN" |
  docker exec -i coolify curl -fsS -H @- http://127.0.0.1:8080/api/v1/version >/dev/null
echo "Coolify API ready"
