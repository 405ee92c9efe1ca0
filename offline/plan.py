"""The offline plan: what a stack would create, with no CLI, no tokens and no network.

    python -m offline.plan                # every stack file
    python -m offline.plan production     # one stack
    python -m offline.plan examples/wms.yaml

It runs __main__.py under the same mocks as the tests and prints the resources by component,
the DNS and firewall tables, the server and its cloud-init, and the stack outputs. Addresses
are the mocks' stand-ins; secret values are masked.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from config import ConfigError
from config.hetzner import LOCATION_NAMES, SERVER_TYPES
from offline.engine import RecordedResource, Recording, evaluate_stack, is_secret
from offline.policy_check import check
from offline.stack_files import stack_names
from policy.rules import POLICIES

SERVER_TYPE = "hcloud:index/server:Server"
FIREWALL_TYPE = "hcloud:index/firewall:Firewall"
RECORD_TYPE = "cloudflare:index/dnsRecord:DnsRecord"
ZONE_SETTING_TYPE = "cloudflare:index/zoneSetting:ZoneSetting"
MASK = "[secret]"


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
        user_data = inputs["userData"]
        lines.append(f"  cloud-init user data ({len(user_data.encode())} bytes):")
        lines += [f"    {line}" for line in user_data.splitlines()]
    return lines


def outputs_section(recording: Recording) -> list[str]:
    lines = ["Stack outputs"]
    for name, value in sorted(masked(recording.stack_outputs).items()):
        lines.append(f"  {name} = {value}")
    return lines


def policy_section(recording: Recording) -> list[str]:
    found = check(recording)
    lines = [f"Policy pack ({len(POLICIES)} policies): {len(found) or 'no'} violations"]
    return lines + [f"  {violation}" for violation in found]


def render_plan(recording: Recording) -> str:
    title = (
        f"Plan of stack {recording.project}/{recording.stack} "
        "(offline: mocked engine and providers; addresses are stand-ins)"
    )
    sections = [
        [title],
        resources_section(recording),
        dns_section(recording),
        firewall_section(recording),
        server_section(recording),
        outputs_section(recording),
        policy_section(recording),
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


def plan(stack: str) -> str:
    recording = evaluate_stack(stack)
    if recording.error is not None:
        raise recording.error
    return render_plan(recording)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m offline.plan", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "stacks", nargs="*", help=f"stack names (default: {', '.join(stack_names())})"
    )
    stacks = parser.parse_args(argv).stacks or stack_names()
    failed = False
    for stack in stacks:
        try:
            sys.stdout.write(plan(stack) + "\n")
        except (ConfigError, FileNotFoundError) as error:
            sys.stderr.write(f"stack {stack}: {error}\n")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
