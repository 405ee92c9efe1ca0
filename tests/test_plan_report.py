"""The plan as a pull request attaches it: per stack, the text (environments with secrets
masked, memory budget, cost) and the architecture diagram, rendered by Graphviz's `dot`."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest
import yaml

from config.hetzner import SERVER_TYPES, VOLUME_EUR_PER_GB
from offline.costs import PRIMARY_IPV4_EUR, baseline, monthly_cost
from offline.diagram import BROWSER, LEGEND, SERVICE, Graph, architecture, render, to_dot
from offline.engine import evaluate_stack, generated_secrets
from offline.plan import Plan, main, plan, write
from offline.stack_files import stack_names
from tests.support import config_of

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples").glob("*.yaml"))
STACKS = [*stack_names(), *EXAMPLES]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@cache
def planned(stack: str) -> Plan:
    return plan(stack)


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_writes_its_plan_folder(stack: str, tmp_path: Path) -> None:
    written = write(planned(stack), tmp_path)
    name = Path(stack).stem if stack.endswith(".yaml") else stack
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        f"{name}/plan.txt",
        f"{name}/architecture.dot",
        f"{name}/architecture.png",
        f"{name}/architecture.svg",
    ]
    assert written[2].read_bytes().startswith(PNG_MAGIC)
    svg = ET.parse(written[3]).getroot()  # noqa: S314 -- our own file, just written
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    for heading in ("Memory budget (", "Estimated monthly cost", "App environments"):
        assert heading in written[0].read_text()


@pytest.mark.parametrize("stack", STACKS)
def test_no_secret_reaches_the_plan_or_the_diagram(stack: str) -> None:
    # What pulumi-random and pulumi-tls generated, and the secret config (stand-ins offline).
    secrets = generated_secrets(evaluate_stack(stack))
    assert secrets
    result = planned(stack)
    leaked = [s for s in secrets if s in result.text or s in result.diagram]
    assert leaked == []


def test_environments_show_literals_and_mask_the_rest() -> None:
    text = planned("production").text
    rows = [" ".join(line.split()) for line in text.splitlines()]
    assert "NODE_ENV run production" in rows
    assert "DATABASE_URL run <- database.url" in rows
    assert "STRIPE_SECRET_KEY run [secret] from secrets.stripeSecretKey" in rows
    assert "NEXT_PUBLIC_APP_URL build+run <- apps.crm.url" in rows


def test_generated_secrets_are_shown_as_generated() -> None:
    text = planned("examples/orbitflow.yaml").text
    assert "[secret] generated (32 random bytes, base64)" in text


def test_memory_budget_adds_up_to_the_server() -> None:
    config = config_of("production")
    text = planned("production").text
    used = sum(mb for _, mb in config.memory_budget())
    total = SERVER_TYPES["cx43"].memory_mb
    assert f"{used} of {total} MB allotted" in text
    assert ["free", str(total - used)] in [line.split() for line in text.splitlines()]


def test_cost_is_server_ipv4_and_backups_beside_the_seed() -> None:
    config = config_of("production")
    price = SERVER_TYPES[config.server.type].eur_per_month
    lines = {line.item: line.eur_per_month for line in monthly_cost(config)}
    assert lines[f"server {config.server.type}"] == price
    assert lines["primary IPv4"] == PRIMARY_IPV4_EUR
    assert lines["Hetzner backups (7 daily images)"] == pytest.approx(price * 0.2)
    assert lines["volume for minio, 200 GB"] == pytest.approx(200 * VOLUME_EUR_PER_GB)
    total = price * 1.2 + PRIMARY_IPV4_EUR + 200 * VOLUME_EUR_PER_GB
    assert f"total {total:.2f}" in " ".join(planned("production").text.split())
    assert "USD 45-70/month" in planned("production").text


def test_staging_has_no_backups_and_an_unknown_seed_has_no_baseline() -> None:
    items = [line.item for line in monthly_cost(config_of("staging"))]
    assert not any("backups (7" in item for item in items)
    assert baseline("orbitflow") is None
    assert "managed services" not in planned("examples/orbitflow.yaml").text


def test_an_external_database_is_billed_elsewhere() -> None:
    items = [line.item for line in monthly_cost(config_of("examples/wms.yaml"))]
    assert "external PostgreSQL" in items


def test_a_stack_that_keeps_supabase_does_not_save_it() -> None:
    """UltimatePOS keeps Supabase: the comparison counts Vercel Pro only."""
    text = " ".join(planned("examples/ultimatepos.yaml").text.split())
    assert (
        "pays about USD 45/month for managed services: Vercel Pro ($20), Supabase Pro ($25)" in text
    )
    assert "this stack replaces USD 20/month of it and keeps Supabase Pro (USD 25/month" in text
    assert "this stack replaces" not in planned("production").text


def test_prices_outside_europe_carry_a_caveat(tmp_path: Path) -> None:
    assert "price list" not in planned("production").text
    stack = tmp_path / "us-east.yaml"
    document = yaml.safe_load((ROOT / "examples" / "orbitflow.yaml").read_text())
    document["config"]["platform:server"].update(location="ash", type="cpx32")
    stack.write_text(yaml.safe_dump(document))
    text = " ".join(plan(str(stack)).text.split())
    assert "prices are Hetzner's in Germany and Finland; Ashburn" in text


def edges(stack: str) -> set[tuple[str, str, str]]:
    graph = architecture(config_of(stack), "x")
    return {(tail, head, attrs.get("label", "")) for tail, head, attrs in graph.edges}


def test_production_diagram_shows_who_connects_to_whom() -> None:
    found = edges("production")
    assert {
        ("users", "host:crm.example.com", ""),
        ("host:crm.example.com", "firewall", ""),
        ("firewall", "proxy", "80, 443"),
        ("admins", "firewall", "SSH 22"),
        ("firewall", "sshd", "SSH 22"),
        ("sshd", "coolify", "tunnel to its API :8000"),
        ("proxy", "app:crm", "crm.example.com"),
        ("proxy", "coolify", "coolify.example.com"),
        ("app:crm", "pgbouncer", "SQL (pooled)"),
        ("app:crm", "postgres", "SQL (direct)"),
        ("pgbouncer", "postgres", "pool"),
        ("app:crm", "redis", "RESP"),
        ("app:crm", "minio", "S3"),
        ("app:crm", "app:book", "HTTPS"),
        ("coolify", "app:worker", "deploys"),
        ("uptime-kuma", "postgres", "checks"),
        ("backup-jobs", "postgres", "pg_dump, drill"),
        ("backup-jobs", "offsite", "dumps"),
        ("backup-jobs", "minio", "mirror"),
        ("backup-jobs", "uptime-kuma", "push"),
    } <= found
    assert not any(tail == head for tail, head, _ in found)


def test_the_diagram_explains_every_kind_of_line_it_draws() -> None:
    """Each edge is drawn in one of the legend's styles, browsers' traffic apart from the
    services' own, and every label is tied to its edge."""
    graph = architecture(config_of("production"), "production")
    styles = [attrs for _, attrs in LEGEND]
    assert len({tuple(sorted(style.items())) for style in styles}) == len(styles)
    for tail, head, attrs in graph.edges:
        drawn = {key: value for key, value in attrs.items() if key not in ("label", "decorate")}
        assert drawn in styles, (tail, head, attrs)
        assert "label" not in attrs or attrs["decorate"] == "true"
        if tail == "users" or (tail == "proxy" and head.startswith("app:")):
            assert drawn == BROWSER
        if tail.startswith("app:"):  # an app's own connections are service traffic
            assert drawn == SERVICE


def test_external_postgres_sits_outside_the_server() -> None:
    graph = architecture(config_of("examples/wms.yaml"), "wms")
    assert "external-postgres" in graph.nodes
    assert "external-postgres" not in graph.clusters["server"][1]
    assert any(head == "external-postgres" for _, head, _ in graph.edges)


def test_dot_quotes_every_label(tmp_path: Path) -> None:
    graph = Graph(name='a "quoted" name')
    graph.node("a", 'label with "quotes" and \\ backslash\nand a line')
    graph.node("b", "b")
    graph.edge("a", "b", "x -> y")
    dot = to_dot(graph)
    assert '"label with \\"quotes\\" and \\\\ backslash\\nand a line"' in dot
    render(dot, tmp_path)  # dot accepts it


def test_the_cli_writes_the_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staging", "--out", str(tmp_path)]) == 0
    assert "architecture.svg" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "staging").iterdir()) == [
        "architecture.dot",
        "architecture.png",
        "architecture.svg",
        "plan.txt",
    ]
