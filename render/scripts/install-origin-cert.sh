# Install the Cloudflare origin certificate for Coolify's proxy (Traefik), which serves it
# to Cloudflare for the proxied hostnames. stdin: the private key PEM, then the certificate
# PEM. A rerun with the same certificate changes nothing.
set -euo pipefail
: "${COOLIFY_DIR:?}" "${DYNAMIC_CONFIG:?}"
certs="$COOLIFY_DIR/proxy/certs"
dynamic="$COOLIFY_DIR/proxy/dynamic"
mkdir -p "$certs" "$dynamic"
umask 077
new=$(mktemp -d)
trap 'rm -rf "$new"' EXIT
awk -v dir="$new" '
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/ { file = dir "/origin.key" }
  /-----BEGIN CERTIFICATE-----/ { file = dir "/origin.crt" }
  file { print > file }'
printf '%s' "$DYNAMIC_CONFIG" | base64 -d >"$new/origin-certificate.yaml"

# Refuse a pair that would break TLS: the key must belong to the certificate.
if ! openssl x509 -noout -in "$new/origin.crt" 2>/dev/null; then
  echo "no certificate on stdin" >&2
  exit 1
fi
if [ "$(openssl x509 -noout -pubkey -in "$new/origin.crt" | openssl pkey -pubin -outform DER | sha256sum)" \
  != "$(openssl pkey -pubout -in "$new/origin.key" -outform DER 2>/dev/null | sha256sum)" ]; then
  echo "the private key does not belong to the certificate" >&2
  exit 1
fi

changed=false
for target in "$certs/origin.key" "$certs/origin.crt" "$dynamic/origin-certificate.yaml"; do
  if ! cmp -s "$new/${target##*/}" "$target"; then
    install -m 600 "$new/${target##*/}" "$target"
    changed=true
  fi
done
# Traefik watches the dynamic folder: a changed file is picked up without a restart.
if [ "$changed" = true ]; then echo "origin certificate installed"; else echo "origin certificate unchanged"; fi
