"""The platform's rules, checked by `pulumi preview --policy-pack policy` on what the program
is about to create, whatever the config or the code said: a second line behind the config's
validation, for the mistakes that would expose the server or a secret.

Each policy is a plain function of (args, report_violation), so that the tests can call it on
a passing and a failing resource without the Pulumi CLI.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from config.fields import image_pin_problem

ReportViolation = Callable[..., None]

FIREWALL = "hcloud:index/firewall:Firewall"
SERVER = "hcloud:index/server:Server"
DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord"
COOLIFY = "pulumi-python:dynamic/coolify:"
ENV_VARS = COOLIFY + "EnvVars"

PUBLIC_PORTS = frozenset({80, 443})
SSH_PORT = 22
# Reached through Coolify's network or the SSH tunnel, never through the firewall:
# PostgreSQL, PgBouncer, MySQL/MariaDB, Redis, MinIO S3 and console, Coolify's dashboard and
# realtime/terminal sockets, Uptime Kuma.
PRIVATE_PORTS = {
    5432: "PostgreSQL",
    6432: "PgBouncer",
    3306: "MariaDB",
    6379: "Redis",
    9000: "MinIO S3",
    9001: "MinIO console",
    8000: "Coolify dashboard",
    6001: "Coolify realtime",
    6002: "Coolify terminal",
    3001: "Uptime Kuma",
}
# Names that hold credentials, and prefixes that frameworks inline into public browser bundles
# (such a value is public by design: a publishable key, a DSN without a password).
SECRET_NAME = re.compile(
    r"PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE|CREDENTIAL|API_?KEY|ACCESS_?KEY|_KEY$|^KEY$|"
    r"DATABASE_URL|DIRECT_URL|REDIS_URL|DSN"
)
PUBLIC_PREFIX = re.compile(r"^(NEXT_PUBLIC_|VITE_|PUBLIC_|REACT_APP_|NUXT_PUBLIC_|EXPO_PUBLIC_)")
# A URL written as scheme://user:password@host; group 1 is all before the password.
URL_WITH_PASSWORD = re.compile(r"^([a-z][a-z0-9+.-]*://[^/@\s:]*:)[^/@\s]+@", re.IGNORECASE)


def _ports(rule: Mapping[str, Any]) -> range:
    """The ports of a firewall rule ("22", "8000-8010"); every port for a rule with none."""
    port = rule.get("port")
    if not port:
        return range(1, 65536)
    low, _, high = str(port).partition("-")
    return range(int(low), int(high or low) + 1)


def _is_anywhere(cidr: str) -> bool:
    return ipaddress.ip_network(cidr, strict=False).prefixlen == 0


def _inbound(args: ResourceValidationArgs) -> Iterator[tuple[Mapping[str, Any], range]]:
    """(rule, its ports) of every inbound TCP or UDP rule (ICMP has no ports: ping and
    path-MTU discovery are allowed)."""
    for rule in args.props.get("rules") or []:
        if rule.get("direction", "in") == "in" and rule.get("protocol") in ("tcp", "udp"):
            yield rule, _ports(rule)


def firewall_public_ports(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != FIREWALL:
        return
    allow_ssh = bool((args.get_config() or {}).get("allowPublicSsh"))
    allowed = PUBLIC_PORTS | ({SSH_PORT} if allow_ssh else set())
    for rule, ports in _inbound(args):
        anywhere = any(_is_anywhere(cidr) for cidr in rule.get("sourceIps") or [])
        if anywhere and not set(ports) <= allowed:
            report(
                f"{args.name}: {rule['protocol']} port {rule.get('port') or 'any'} is open to "
                "the whole internet; only 80 and 443 may be (22 only from the admin CIDRs: "
                "ssh.adminCidrs)"
            )


def no_private_port_open(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != FIREWALL:
        return
    for _rule, ports in _inbound(args):
        for port, what in sorted(PRIVATE_PORTS.items()):
            if port in ports:
                report(
                    f"{args.name}: port {port} ({what}) is opened in the firewall; reach it "
                    "through the SSH tunnel or Coolify's network instead"
                )


def production_server_protected(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != SERVER:
        return
    stacks = (args.get_config() or {}).get("protectedStacks", ["production"])
    stack = (args.props.get("labels") or {}).get("stack")
    if stack not in stacks:
        return
    missing = [
        what
        for what, on in (
            ("the resource option protect", args.opts.protect),
            ("deleteProtection", args.props.get("deleteProtection")),
            ("rebuildProtection", args.props.get("rebuildProtection")),
        )
        if not on
    ]
    if missing:
        report(
            f"{args.name}: the {stack} server lacks {', '.join(missing)}; a deletion or rebuild "
            "would destroy the live platform (server.deleteProtection)"
        )


def app_records_proxied(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DNS_RECORD:
        return
    # components/dns.py names a record's owner in its comment: "...: app <name>".
    if re.search(r": app \S+$", args.props.get("comment") or "") and not args.props.get("proxied"):
        report(
            f"{args.name}: the app record {args.props.get('name')} is not proxied, which "
            "publishes the server's address and bypasses Cloudflare's TLS and DDoS protection "
            "(apps[].domains[].proxied)"
        )


def env_secrets_secret(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ENV_VARS:
        return
    if "variables" not in (args.opts.additional_secret_outputs or []):
        report(f"{args.name}: the variables are not marked secret in the state")
    for key, source in sorted((args.props.get("sources") or {}).items()):
        if source == "literal" and SECRET_NAME.search(key) and not PUBLIC_PREFIX.match(key):
            report(
                f"{args.name}: {key} looks like a secret but is written in the stack file; "
                "use {secret: <name>} with `pulumi config set --secret`, or {generate: secret}"
            )
    # The values are unknown at a stack's first preview (they wait for generated secrets);
    # the engine then skips this check until `pulumi up`, where they are known.
    for key, variable in sorted((args.props.get("variables") or {}).items()):
        if URL_WITH_PASSWORD.match(str(variable.get("value", ""))) and (
            (args.props.get("sources") or {}).get(key) == "literal"
        ):
            report(f"{args.name}: {key} is a URL with a password, written in the stack file")


def _images(args: ResourceValidationArgs) -> Iterator[str]:
    props = args.props
    if props.get("image"):
        yield str(props["image"])
    source = props.get("source") or {}
    if source.get("kind") == "image":
        tag = source.get("docker_registry_image_tag")
        yield f"{source['docker_registry_image_name']}" + (f":{tag}" if tag else "")
    if props.get("compose"):
        services = (yaml.safe_load(props["compose"]) or {}).get("services") or {}
        yield from (s["image"] for s in services.values() if s.get("image"))


def images_pinned(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.resource_type.startswith(COOLIFY):
        return
    for image in _images(args):
        problem = image_pin_problem(image)
        if problem is not None:
            report(f"{args.name}: {problem}")


POLICIES: list[ResourceValidationPolicy] = [
    ResourceValidationPolicy(
        name="firewall-public-ports",
        description="Only 80 and 443 are open to the internet (22 only from the admin CIDRs).",
        validate=firewall_public_ports,
        config_schema=PolicyConfigSchema(
            properties={"allowPublicSsh": {"type": "boolean", "default": False}}
        ),
    ),
    ResourceValidationPolicy(
        name="no-private-port-open",
        description="No database, cache, object storage or Coolify port is opened in the firewall.",
        validate=no_private_port_open,
    ),
    ResourceValidationPolicy(
        name="production-server-protected",
        description="The production server is protected from deletion and rebuild.",
        validate=production_server_protected,
        config_schema=PolicyConfigSchema(
            properties={
                "protectedStacks": {
                    "type": "array",
                    "items": {"type": "string"},
                    "default": ["production"],
                }
            }
        ),
    ),
    ResourceValidationPolicy(
        name="app-records-proxied",
        description="Every app's Cloudflare record is proxied.",
        validate=app_records_proxied,
    ),
    ResourceValidationPolicy(
        name="env-secrets-secret",
        description="Every secret-looking environment value is secret, not written in the "
        "stack file.",
        validate=env_secrets_secret,
    ),
    ResourceValidationPolicy(
        name="images-pinned",
        description="Every container image is pinned to a version or digest (no latest).",
        validate=images_pinned,
    ),
]
ENFORCEMENT = EnforcementLevel.MANDATORY
