"""Coolify resources declared in a program keep their secrets secret in state."""

from __future__ import annotations

from pathlib import Path

from offline.engine import evaluate, find_leaks, is_secret
from tests.support import write

PROGRAM = """
import pulumi
import pulumi_random as random

from coolify.resources import Connection, Database, Deploy, Environment, EnvVars, Project

token = random.RandomPassword("api-token", length=48, special=False)
password = random.RandomPassword("postgres-password", length=32, special=False)
connection = Connection({"url": "https://coolify.example.com", "token": token.result})
project = Project("project", connection=connection, project_name="tour-crm")
environment = Environment("environment", connection=connection, project_uuid=project.id,
                          environment_name="production")
database = Database("postgres", connection=connection, props={
    "server_uuid": "server", "project_uuid": project.id, "environment_uuid": environment.id,
    "engine": "postgresql", "name": "postgres", "image": "postgres:16.4-alpine",
    "credentials": {"postgres_user": "app", "postgres_password": password.result},
})
env = EnvVars("crm-env", connection=connection, resource="applications", resource_uuid="app",
              variables={"DATABASE_URL": {"value": password.result.apply(lambda p: f"postgres://app:{p}@db/app")}})
Deploy("crm-deploy", connection=connection, resource_uuid="app", triggers=[env.id])
pulumi.export("databaseUrl", database.internal_db_url)
"""


def test_secrets_stay_secret_in_state(tmp_path: Path) -> None:
    recording = evaluate(
        write(tmp_path / "__main__.py", PROGRAM), project="platform", stack="test", config={}
    )
    assert recording.error is None, recording.error
    assert find_leaks(recording) == []
    database = recording.named("postgres")
    for name in ("connection", "credentials", "internal_db_url"):
        assert is_secret(database.outputs[name]), name
    assert is_secret(recording.named("crm-env").outputs["variables"])
    assert is_secret(recording.named("project").inputs["connection"])
    assert recording.named("postgres").type == "pulumi-python:dynamic/coolify:Database"
