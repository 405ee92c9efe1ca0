"""Benchmark: pgbench through the generated PgBouncer config vs PostgreSQL directly.

    .venv/bin/python -m bench.pgbouncer        (as root: PostgreSQL runs as the postgres user)

One run per workload and way, on loopback with Debian's PostgreSQL 15 and PgBouncer: the
pooled run has ten times PostgreSQL's connection slots as clients, the direct run as many
clients as the pool has server connections. Prints the figures and writes them to
bench/results/pgbouncer.json. Targets: >= 10x the connection slots served with 0 failed
transactions; TPS ratio >= 0.8.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from render.pgbouncer import PoolSettings
from render.postgres import postgres_settings, postgresql_conf
from tests.servers import PG_BIN, loopback_pgbouncer, running_postgres

MAX_CONNECTIONS = 20  # PostgreSQL's slots (3 reserved for superusers)
POOL = PoolSettings(
    max_client_conn=10 * MAX_CONNECTIONS + 50,
    default_pool_size=12,
    min_pool_size=4,
    reserve_pool_size=3,
    reserve_pool_timeout=3,
    server_lifetime=3600,
    server_idle_timeout=600,
    max_prepared_statements=100,
)
PASSWORD = "BenchPassword0123456789abcdefghij"  # noqa: S105 -- a throw-away local server
SECONDS = 15
RESULTS = Path(__file__).parent / "results" / "pgbouncer.json"
# The same number of server connections both ways: the pool's size. Pooled: 10x the slots
# as clients. "-S" is select-only (the proxy's overhead per query shows most); the default
# is pgbench's TPC-B-like read-write transaction.
WORKLOADS = {"select_only": ["-S"], "tpcb_like": []}


def pgbench(port: int, clients: int, *extra: str) -> str:
    command = [
        str(PG_BIN / "pgbench"),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-U",
        "app",
        "-c",
        str(clients),
        "-j",
        "2",
        "-T",
        str(SECONDS),
        "-M",
        "simple",
        "--no-vacuum",
        *extra,
        "app",
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**os.environ, "PGPASSWORD": PASSWORD},
        check=False,
    )
    return result.stdout + result.stderr


def figures(output: str) -> dict[str, float]:
    def number(pattern: str) -> float:
        found = re.search(pattern, output)
        return float(found.group(1)) if found else float("nan")

    return {
        "clients": number(r"number of clients: (\d+)"),
        "transactions": number(r"number of transactions actually processed: (\d+)"),
        "failed": number(r"number of failed transactions: (\d+)")
        if "failed transactions" in output
        else float("nan"),
        "tps": number(r"tps = ([\d.]+) \(without initial connection time\)"),
    }


def main() -> int:
    with running_postgres(postgresql_conf(postgres_settings(1024, MAX_CONNECTIONS))) as postgres:
        with postgres.connect() as connection:
            connection.execute(f"CREATE ROLE app LOGIN PASSWORD '{PASSWORD}'")
            connection.execute("CREATE DATABASE app OWNER app")
        init = subprocess.run(
            [
                str(PG_BIN / "pgbench"),
                "-h",
                "127.0.0.1",
                "-p",
                str(postgres.port),
                "-U",
                "app",
                "-i",
                "-s",
                "10",
                "app",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PGPASSWORD": PASSWORD},
            check=False,
        )
        if init.returncode != 0:
            sys.stderr.write(init.stderr)
            return 1
        with loopback_pgbouncer(postgres, POOL, "app", PASSWORD) as port:
            pooled = {
                name: figures(pgbench(port, 10 * MAX_CONNECTIONS, *flags))
                for name, flags in WORKLOADS.items()
            }
        direct = {
            name: figures(
                pgbench(postgres.port, POOL.default_pool_size + POOL.reserve_pool_size, *flags)
            )
            for name, flags in WORKLOADS.items()
        }
    report: dict[str, object] = {
        "postgres_connection_slots": MAX_CONNECTIONS,
        "pgbouncer_pool": POOL.default_pool_size + POOL.reserve_pool_size,
        "seconds_per_run": SECONDS,
        "cores": os.cpu_count(),
    }
    met = True
    for name in WORKLOADS:
        ratio = round(pooled[name]["tps"] / direct[name]["tps"], 3)
        served = pooled[name]["clients"] / MAX_CONNECTIONS
        report[name] = {
            "pooled": pooled[name],
            "direct": direct[name],
            "clients_served_over_slots": served,
            "tps_ratio_pooled_over_direct": ratio,
        }
        met = met and served >= 10 and pooled[name]["failed"] == 0 and ratio >= 0.8
    report["targets_met"] = met
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    sys.stdout.write(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
