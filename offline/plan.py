"""The offline plan: what a stack would create, with no CLI, no tokens and no network.

    python -m offline.plan                      # every stack file
    python -m offline.plan production           # one stack
    python -m offline.plan examples/wms.yaml
    python -m offline.plan --out plan           # and write plan/<stack>/ for a pull request

It runs __main__.py under the same mocks as the tests and prints the resources by component,
the DNS and firewall tables, each app's environment, the memory budget, the estimated monthly
cost, the server and its cloud-init, the stack outputs and the policy pack's verdict.
Addresses are the mocks' stand-ins; secret values are masked. With --out, each stack's folder
also gets its architecture diagram (Graphviz: DOT, PNG and SVG).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from config import (
    SUPABASE_SCHEMAS,
    AppConfig,
    ConfigError,
    EnvValue,
    GeneratedValue,
    SecretValue,
    StackConfig,
)
from config.fields import PinnedImage
from config.hetzner import EU_LOCATIONS, LOCATION_NAMES, SERVER_TYPES
from offline import diagram
from offline.costs import baseline, monthly_cost, usd_range
from offline.engine import RecordedResource, Recording, evaluate_stack_file, is_secret, reveal
from offline.policy_check import check
from offline.stack_files import (
    StackFileError,
    in_documentation_network,
    read_stack_file,
    set_secret_command,
    stack_config,
    stack_names,
)
from policy.rules import POLICIES, PUBLIC_PREFIX, SECRET_NAME, URL_WITH_PASSWORD
from render.pgbouncer import pool_settings
from render.postgres import postgres_settings
from render.volumes import mount_path

# The check every PinnedImage carries: how the plan finds the config's images.
IMAGE_CHECK = typing.get_args(PinnedImage)[1]
SERVER_TYPE = "hcloud:index/server:Server"
FIREWALL_TYPE = "hcloud:index/firewall:Firewall"
RECORD_TYPE = "cloudflare:index/dnsRecord:DnsRecord"
ZONE_SETTING_TYPE = "cloudflare:index/zoneSetting:ZoneSetting"
MASK = "[secret]"
PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN OPENSSH PRIVATE KEY-----.*?-----END OPENSSH PRIVATE KEY-----", re.DOTALL
)


def masked(value: Any) -> Any:
    if is_secret(value):
        return MASK
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    cells = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in cells]  # fmt: skip


def _notes(resource: RecordedResource) -> str:
    notes = []
    if resource.protect:
        notes.append("protected")
    if resource.ignore_changes:
        notes.append("ignores changes to " + ", ".join(resource.ignore_changes))
    if resource.delete_before_replace:
        notes.append("deleted before replaced")
    return f"  [{'; '.join(notes)}]" if notes else ""


def resources_section(recording: Recording) -> list[str]:
    custom = [r for r in recording.resources if r.custom]
    lines = [f"Resources ({len(custom)}), by component"]
    components = [r for r in recording.resources if not r.custom]
    for component in sorted(components, key=lambda r: r.name):
        lines.append(f"  {component.name} ({component.type})")
        children = sorted(recording.children_of(component), key=lambda r: (r.type, r.name))
        width = max((len(r.type) for r in children), default=0)
        lines += [f"    {r.type:<{width}}  {r.name}{_notes(r)}" for r in children]
    return lines


def dns_section(recording: Recording) -> list[str]:
    records = sorted(
        (masked(r.inputs) for r in recording.of_type(RECORD_TYPE)),
        key=lambda i: (i["name"], i["type"]),
    )
    rows = [
        (i["name"], i["type"], i["content"], "yes" if i["proxied"] else "no",
         "auto" if i["ttl"] == 1 else int(i["ttl"]), i.get("comment", ""))
        for i in records
    ]  # fmt: skip
    lines = [f"DNS records ({len(rows)})"]
    lines += table(("NAME", "TYPE", "CONTENT", "PROXIED", "TTL", "COMMENT"), rows)
    settings = sorted(
        (masked(r.inputs) for r in recording.of_type(ZONE_SETTING_TYPE)),
        key=lambda s: s["settingId"],
    )
    if settings:
        lines.append(
            "  zone settings: " + ", ".join(f"{s['settingId']}={s['value']}" for s in settings)
        )
    else:
        lines.append("  zone settings: not managed by this stack")
    return lines


def firewall_section(recording: Recording) -> list[str]:
    lines = []
    for firewall in sorted(recording.of_type(FIREWALL_TYPE), key=lambda r: r.name):
        rules = masked(firewall.inputs).get("rules", [])
        rows = [
            (r["direction"], r["protocol"], r.get("port", "-"), " ".join(r.get("sourceIps", [])),
             r.get("description", ""))
            for r in rules
        ]  # fmt: skip
        lines.append(f"Firewall {firewall.name} (inbound; every other inbound packet is dropped)")
        lines += table(("DIR", "PROTO", "PORT", "SOURCES", "DESCRIPTION"), rows)
    return lines


def server_section(recording: Recording) -> list[str]:
    lines = []
    for server in sorted(recording.of_type(SERVER_TYPE), key=lambda r: r.name):
        inputs = masked(server.inputs)
        spec = SERVER_TYPES[inputs["serverType"]]
        location = inputs["location"]
        lines += [
            f"Server {inputs['name']}",
            f"  type      {spec.name}: {spec.vcpus} vCPU, {spec.memory_gb} GB RAM, "
            f"{spec.disk_gb} GB disk, {spec.architecture}, ~EUR {spec.eur_per_month:.2f}/month",
            f"  location  {location} ({LOCATION_NAMES[location]})",
            f"  image     {inputs['image']}",
            f"  backups   {'on' if inputs.get('backups') else 'off'}",
            f"  deletion  {'protected' if server.protect else 'allowed (not protected)'}",
            f"  labels    {', '.join(f'{k}={v}' for k, v in sorted(inputs['labels'].items()))}",
        ]
        # The user data is secret for the host key's private half alone: shown without it.
        user_data = reveal(server.inputs["userData"])
        shown = PRIVATE_KEY_BLOCK.sub(MASK, user_data)
        lines.append(f"  cloud-init user data ({len(user_data.encode())} bytes):")
        lines += [f"    {line}" for line in shown.splitlines()]
    return lines


def _literal(name: str, value: str) -> str:
    """A value written in the stack file, as the plan shows it: one under a name that holds
    credentials is masked (the policy pack refuses it anyway), a URL's password too. A config
    key's camelCase name is read as a variable's ("stripeSecretKey" as STRIPE_SECRET_KEY)."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()
    if SECRET_NAME.search(name) and not PUBLIC_PREFIX.match(name):
        return f"{MASK} written in the stack file (refused by env-secrets-secret)"
    return URL_WITH_PASSWORD.sub(rf"\1{MASK}@", value)


def _shown(name: str, value: EnvValue) -> str:
    """A variable as the plan shows it: literals as written (but secret-looking ones),
    everything else by its source, so that no secret value can reach the plan."""
    if isinstance(value, str):
        return _literal(name, value)
    if isinstance(value, GeneratedValue):
        return f"{MASK} generated (32 random bytes, base64)"
    if isinstance(value, SecretValue):
        return f"{MASK} from secrets.{value.secret}"
    return f"<- {value.ref}"


def _health(app: AppConfig) -> str:
    check = app.health
    if check is None:
        return "none"
    port = f":{check.port}" if check.port else ""
    return (
        f"{check.method} {check.scheme}{port} {check.path} -> {check.return_code}, every "
        f"{check.interval}s (timeout {check.timeout}s, {check.retries} tries, "
        f"{check.start_period}s to start)"
    )


def _source(app: AppConfig) -> str:
    git = app.git
    if git is None:
        return f"image {app.image}"
    how = git.dockerfile if git.pack == "dockerfile" else git.pack
    steps = [
        f"{step} '{command}'"
        for step, command in (("install", git.install_command), ("build", git.build_command),
                              ("start", git.start_command))
        if command
    ]  # fmt: skip
    if git.publish_directory:
        steps.append(f"serves {git.publish_directory}{' (SPA)' if git.spa else ''}")
    return " ".join([f"{git.repository}@{git.branch}", how, *steps])


def apps_section(config: StackConfig) -> list[str]:
    """How each app is built, limited, checked and deployed."""
    rows = [
        (
            app.name,
            _source(app),
            app.memory_mb,
            _cpus(app.cpus),
            _health(app),
            app.pre_deploy_command or "-",
            app.post_deploy_command or "-",
        )
        for app in config.apps
    ]  # fmt: skip
    header = ("APP", "SOURCE", "MB", "CPUS", "HEALTH CHECK", "BEFORE DEPLOY", "AFTER DEPLOY")
    return ["Apps (source, limits, health check, deployment commands)", *table(header, rows)]


def data_section(config: StackConfig) -> list[str]:
    """The databases' limits and what the apps reach them by."""
    services = config.services
    rows: list[tuple[str, str, str, str]] = []
    if (postgres := services.postgres) is not None:
        rows.append(("postgres", str(postgres.memory_mb), _cpus(postgres.cpus),
                     f"max_connections {postgres.max_connections}"))  # fmt: skip
    if (pgbouncer := services.pgbouncer) is not None:
        rows.append(("pgbouncer", str(pgbouncer.memory_mb), "no limit",
                     f"transaction pooling, pool {pgbouncer.default_pool_size}; database.url "
                     "(?pgbouncer=true), database.pooledUrl (libpq drivers)"))  # fmt: skip
    if (mariadb := services.mariadb) is not None:
        rows.append(("mariadb", str(mariadb.memory_mb), _cpus(mariadb.cpus), ""))
    if services.external_postgres is not None:
        rows.append(("external PostgreSQL", "-", "-", "the secret URLs (not deployed)"))
    if (redis := services.redis) is not None:
        rows.append(("redis", str(redis.limit_mb), _cpus(redis.cpus),
                     f"maxmemory {redis.maxmemory_mb} MB, {redis.eviction_policy}"))  # fmt: skip
    if not rows:
        return ["Data services: none"]
    return ["Data services", *table(("SERVICE", "MB", "CPUS", "SETTINGS"), rows)]


def imports_section(config: StackConfig) -> list[str]:
    """What each import takes, and its command on the server (docs/operations.md, "Bringing
    data in")."""
    imports, rows = config.imports, []
    if (postgres := imports.postgres) is not None:
        skipped = (
            f"Supabase's own ({len(SUPABASE_SCHEMAS)}: auth, storage, realtime, ...)"
            if postgres.skip_schemas == list(SUPABASE_SCHEMAS)
            else ", ".join(postgres.skip_schemas) or "none"
        )
        taken = ", ".join(postgres.schemas) or f"every schema but {skipped}"
        rows.append(("postgres", "systemctl start platform-import-postgres", taken))
    if (buckets := imports.buckets) is not None:
        pairs = ", ".join(f"{b.source} -> {b.target}" for b in buckets.buckets)
        rows.append(("buckets", "systemctl start platform-import-buckets", pairs))
    if not rows:
        return ["Imports: none"]
    return ["Imports (started by hand on the server)", *table(("IMPORT", "COMMAND", "TAKES"), rows)]


def _cpus(cpus: float | None) -> str:
    return f"{cpus:g}" if cpus else "no limit"


def environment_section(config: StackConfig) -> list[str]:
    lines = ["App environments (build: at build time, run: at run time)"]
    for app in config.apps:
        lines.append(f"  {app.name}")
        rows = []
        for key in sorted({*app.env, *app.build_args}):
            when = [
                w for w, on in (("build", key in app.build_args), ("run", key in app.env)) if on
            ]
            rows.append(
                (
                    key,
                    "+".join(when),
                    _shown(key, app.env[key] if key in app.env else app.build_args[key]),
                )
            )
        lines += ["  " + row for row in table(("VARIABLE", "WHEN", "VALUE"), rows)] if rows else []
    return lines


def memory_section(config: StackConfig) -> list[str]:
    lines: list[str] = []
    for which, server, _, rows in config.server_budgets():
        used, total = sum(mb for _, mb in rows), server.spec.memory_mb
        lines += [f"Memory budget ({which}{server.type}: {total} MB)"]
        lines += table(("WHO", "MB"), [*rows, ("free", total - used)])
        lines.append(f"  {used} of {total} MB allotted ({100 * used // total}%)")
    return lines


def disk_section(config: StackConfig) -> list[str]:
    """What the stack keeps on each server's own disk (estimates), against the level at which
    Coolify's disk alert fires; the volumes beside."""
    lines: list[str] = []
    percent = config.coolify.disk_alert_percent
    for which, server, _, rows in config.disk_budgets():
        used, limit = sum(gb for _, gb in rows), config.disk_limit_gb(server)
        lines += [f"Disk budget ({which}{server.type}: {server.spec.disk_gb} GB, estimates)"]
        lines += table(("WHO", "GB"), rows)
        lines.append(f"  {used} of {limit} GB ({percent}% of the disk, where Coolify alerts)")
    for service, volume, needed in config.volume_needs():
        lines.append(
            f"  {service}: {needed} GB on a {volume.size_gb} GB Hetzner Volume "
            f"({volume.filesystem}), mounted at {mount_path(service)}"
        )
    return lines


def cost_section(config: StackConfig, stack: str) -> list[str]:
    items = monthly_cost(config)
    total = sum(item.eur_per_month for item in items)
    rows = [(item.item, f"{item.eur_per_month:.2f}", item.note) for item in items]
    lines = ["Estimated monthly cost (EUR, without VAT; indicative)"]
    lines += table(("ITEM", "EUR", "NOTE"), [*rows, ("total", f"{total:.2f}", "")])
    location = config.server.location
    if location not in EU_LOCATIONS:
        lines.append(
            f"  prices are Hetzner's in Germany and Finland; {LOCATION_NAMES[location]} costs "
            "more and includes less traffic: see Hetzner's price list for it"
        )
    seed = baseline(stack)
    if seed is not None:
        replaced, kept = seed.replaced_by(config)
        listed = ", ".join(f"{service.name} ({service.shown})" for service in seed.services)
        lines.append(
            f"  the seed system pays about {usd_range(list(seed.services))}/month for managed "
            f"services: {listed} ({seed.source})"
        )
        if kept:
            lines.append(
                f"  this stack replaces {usd_range(replaced)}/month of it and keeps "
                f"{', '.join(service.name for service in kept)} ({usd_range(kept)}/month, "
                "billed on top of the total above)"
            )
    return lines


def secrets_section(secrets: dict[str, str]) -> list[str]:
    """The secrets a real `pulumi preview` demands, and how to set each one that is missing."""
    missing = [path for path, status in secrets.items() if status == "missing"]
    lines = [f"Secrets the stack needs: {len(secrets) - len(missing)} set, {len(missing)} missing"]
    rows = [
        (path, status, set_secret_command(path) if status == "missing" else "")
        for path, status in secrets.items()
    ]
    return lines + table(("secret", "status", "to set it"), rows)


def placeholders_section(found: list[tuple[str, str]]) -> list[str]:
    """The committed files' stand-ins still in the stack file, where the user edits them."""
    if not found:
        return ["Placeholders: none"]
    rows = [(key, _literal(key.rsplit(".", 1)[-1], value)) for key, value in found]
    return [
        f"Placeholders still in the stack file ({len(found)}): replace each with your own",
        *table(("KEY", "VALUE"), rows),
    ]


# Where a placeholder stops a real `pulumi up` (or its first deploy), and why.
BLOCKING_PLACEHOLDERS = (
    (re.compile(r"^domain$"), "Cloudflare has no such zone in your account: every DNS record "
     "fails"),
    (re.compile(r"^ssh\.authorizedKeys\[\d+\]\.publicKey$"), "nobody holds this key's private "
     "half: no one could log in to the server"),
    (re.compile(r"\.git\.repository$"), "Coolify cannot clone it: the app's first deploy fails"),
    (re.compile(r"^backups\.offsite\.(bucket|endpoint)$"), "the first off-site upload fails"),
)  # fmt: skip


def blockers(
    config: StackConfig, found: list[tuple[str, str]], secrets: dict[str, str]
) -> list[str]:
    """What would stop a real `pulumi up` of this stack file as it stands."""
    reasons = []
    if missing := sum(status == "missing" for status in secrets.values()):
        reasons.append(f"{missing} secret(s) missing: `pulumi preview` stops at the first")
    if all(in_documentation_network(cidr) for cidr in config.ssh.admin_cidrs):
        reasons.append(
            f"ssh.adminCidrs admits only documentation networks "
            f"({', '.join(config.ssh.admin_cidrs)}): the machine that runs `pulumi up` could "
            "not reach the server over SSH, which installing Coolify and every Coolify "
            "resource need"
        )
    reasons += [
        f"{key} is a placeholder: {why}"
        for key, _ in found
        for pattern, why in BLOCKING_PLACEHOLDERS
        if pattern.search(key)
    ]
    return reasons


def blockers_section(reasons: Sequence[str]) -> list[str]:
    if not reasons:
        return ["What would stop a real `pulumi up`: nothing found"]
    return ["What would stop a real `pulumi up`", *[f"  - {reason}" for reason in reasons]]


def _image_fields(model: BaseModel, path: str) -> list[tuple[str, str]]:
    """Every PinnedImage the validated config holds, by key: only what the stack deploys
    (a service or job it does not run has no model)."""
    found: list[tuple[str, str]] = []
    for name, info in type(model).model_fields.items():
        value, key = getattr(model, name), f"{path}{info.alias or name}"
        if isinstance(value, BaseModel):
            found += _image_fields(value, f"{key}.")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    found += _image_fields(item, f"{key}[{index}].")
        elif isinstance(value, str) and (
            IMAGE_CHECK in info.metadata or PinnedImage in typing.get_args(info.annotation)
        ):
            found.append((key, value))
    return found


def install_section(config: StackConfig) -> list[str]:
    """What the stack puts on its servers: Coolify's release, every image by its pinned tag,
    and the database settings it computed."""
    coolify = config.coolify
    lines = [
        "What it installs",
        f"  Coolify {coolify.version} (its install.sh checked against sha256 "
        f"{coolify.installer_sha256[:16]}...; Coolify brings its own containers)",
        *table(("IMAGE", "FOR"), [(image, key) for key, image in _image_fields(config, "")]),
    ]
    services = config.services
    if (postgres := services.postgres) is not None:
        settings = postgres_settings(postgres.memory_mb, postgres.max_connections)
        lines.append("  PostgreSQL: " + ", ".join(f"{k} {v}" for k, v in settings.items()))
    if (pgbouncer := services.pgbouncer) is not None:
        pool = dataclasses.asdict(pool_settings(pgbouncer))
        major, minor = pgbouncer.version
        lines.append(
            f"  PgBouncer {major}.{minor}: pool_mode transaction, "
            + ", ".join(f"{k} {v}" for k, v in pool.items())
        )
    return lines


def outputs_section(recording: Recording) -> list[str]:
    lines = ["Stack outputs"]
    for name, value in sorted(masked(recording.stack_outputs).items()):
        lines.append(f"  {name} = {value}")
    return lines


def policy_section(violations: Sequence[str]) -> list[str]:
    lines = [f"Policy pack ({len(POLICIES)} policies): {len(violations) or 'no'} violation(s)"]
    return lines + [f"  {violation}" for violation in violations]


def render_plan(
    recording: Recording,
    config: StackConfig,
    violations: Sequence[str],
    reasons: Sequence[str],
    *,
    secrets: dict[str, str] | None = None,
    found: list[tuple[str, str]] | None = None,
) -> str:
    """The plan's text; `violations` (the policy pack's) and `reasons` (what would stop a
    real `pulumi up`) as plan() computes them once, for the text and for the exit status."""
    title = (
        f"Plan of stack {recording.project}/{recording.stack} "
        "(offline: mocked engine and providers; addresses are stand-ins)"
    )
    sections = [
        [title],
        *([secrets_section(secrets)] if secrets is not None else []),
        *([placeholders_section(found)] if found is not None else []),
        blockers_section(reasons),
        install_section(config),
        resources_section(recording),
        dns_section(recording),
        firewall_section(recording),
        apps_section(config),
        data_section(config),
        imports_section(config),
        environment_section(config),
        memory_section(config),
        disk_section(config),
        cost_section(config, recording.stack),
        server_section(recording),
        outputs_section(recording),
        policy_section(violations),
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


@dataclass(frozen=True)
class Plan:
    stack: str
    text: str
    diagram: str  # DOT
    violations: tuple[str, ...]  # the policy pack's: each fails the plan
    blockers: tuple[str, ...]  # what would stop a real `pulumi up`: fail it with --strict


def plan(stack: str) -> Plan:
    stack_file = read_stack_file(stack)
    recording = evaluate_stack_file(stack_file)
    if recording.error is not None:
        raise recording.error
    config = stack_config(stack_file.project, stack_file.config)
    dot = diagram.to_dot(diagram.architecture(config, stack_file.stack))
    violations = tuple(check(recording))
    reasons = tuple(blockers(config, stack_file.placeholders, stack_file.secrets))
    text = render_plan(
        recording,
        config,
        violations,
        reasons,
        secrets=stack_file.secrets,
        found=stack_file.placeholders,
    )
    return Plan(stack_file.stack, text, dot, violations, reasons)


def write(result: Plan, out: Path) -> list[Path]:
    """The stack's plan, as one folder a pull request can attach."""
    folder = out / result.stack
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plan.txt").write_text(result.text)
    return [folder / "plan.txt", *diagram.render(result.diagram, folder)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m offline.plan", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "stacks", nargs="*", help=f"stack names (default: {', '.join(stack_names())})"
    )
    parser.add_argument(
        "--out", type=Path, help="also write each stack's plan and diagram to OUT/<stack>/"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="also fail when something would stop a real `pulumi up` (missing secrets, "
        "placeholders such as the documentation network)",
    )
    args = parser.parse_args(argv)
    failed = False
    for stack in args.stacks or stack_names():
        try:
            result = plan(stack)
            sys.stdout.write(result.text + "\n")
            if args.out is not None:
                written = write(result, args.out)
                sys.stderr.write(f"wrote {', '.join(map(str, written))}\n")
            # The policies are mandatory: a violation fails the plan as it fails `pulumi up`.
            for violation in result.violations:
                sys.stderr.write(f"stack {stack}: policy violation: {violation}\n")
                failed = True
            if args.strict:
                for blocker in result.blockers:
                    sys.stderr.write(f"stack {stack}: would stop `pulumi up`: {blocker}\n")
                    failed = True
        except (ConfigError, FileNotFoundError, StackFileError) as error:
            sys.stderr.write(f"stack {stack}: {error}\n")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
