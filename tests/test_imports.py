"""The imports, as the server gets them and runs them: the install step into a scratch root
(tests/backup_host.py), then the installed services run the way systemd runs them, through the
container tool: from a PostgreSQL laid out as Supabase's (its auth, storage and extensions
schemas) into the platform's, both Debian's PostgreSQL 15, and from buckets on moto's S3 server
into MinIO's (the same server), with Debian's rclone. The runbook in docs/operations.md is these
commands."""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config import BucketsImportConfig, PostgresImportConfig
from config.errors import ConfigError
from offline.engine import find_leaks, is_secret, reveal
from offline.stack_files import PROJECT_DIR
from render import imports as render
from render.backups import Database, Minio
from render.postgres import postgres_settings, postgresql_conf
from render.remote import SCRIPTS, remote_script, required_params
from tests.backup_host import Host, unpack, verify_root
from tests.servers import SUPERUSER_PASSWORD, Postgres, running_postgres
from tests.support import DELETE, evaluate_config, run, tour_crm_config, with_value

CLIENT_IMAGE = "postgres:16.4-alpine"  # the platform's own, the default
SOURCE_USER, SOURCE_PASSWORD = "supabase_owner", "source-password-42"


@pytest.fixture(scope="module")
def supabase() -> Iterator[Postgres]:
    """A PostgreSQL laid out as a Supabase project's: the team's tables in public and billing,
    Supabase's own in auth and storage, uuid-ossp and pgcrypto in the schema extensions."""
    with running_postgres(postgresql_conf(postgres_settings(512, 20))) as server:
        with server.connect() as admin:
            admin.execute(f"CREATE ROLE {SOURCE_USER} LOGIN SUPERUSER PASSWORD '{SOURCE_PASSWORD}'")
            admin.execute(f"CREATE DATABASE postgres_source OWNER {SOURCE_USER}")
        with server.connect(SOURCE_USER, SOURCE_PASSWORD, "postgres_source") as db:
            for statement in (
                "CREATE SCHEMA auth",
                "CREATE TABLE auth.users (id uuid PRIMARY KEY, email text)",
                "INSERT INTO auth.users VALUES (gen_random_uuid(), 'a@example.com')",
                "CREATE SCHEMA storage",
                "CREATE TABLE storage.objects (id serial PRIMARY KEY, name text)",
                "CREATE SCHEMA extensions",
                'CREATE EXTENSION "uuid-ossp" WITH SCHEMA extensions',
                "CREATE EXTENSION pgcrypto WITH SCHEMA extensions",
                "CREATE TABLE tours (id uuid PRIMARY KEY DEFAULT extensions.uuid_generate_v4(),"
                " name text NOT NULL, secret bytea DEFAULT extensions.gen_random_bytes(8))",
                "CREATE TABLE bookings (id serial PRIMARY KEY, tour uuid REFERENCES tours,"
                " seats int)",
                "INSERT INTO tours (name) SELECT 'tour ' || g FROM generate_series(1, 40) g",
                "INSERT INTO bookings (tour, seats) SELECT id, 2 FROM tours,"
                " generate_series(1, 30)",
                "CREATE SCHEMA billing",
                'CREATE TABLE billing."Invoice" (id serial PRIMARY KEY, total numeric)',
                'INSERT INTO billing."Invoice" (total) SELECT g FROM generate_series(1, 300) g',
                "CREATE TABLE empty_table (id int)",
            ):
                db.execute(statement)
        yield server


@pytest.fixture(scope="module")
def platform_postgres() -> Iterator[Postgres]:
    with running_postgres(postgresql_conf(postgres_settings(512, 20))) as server:
        yield server


_databases = itertools.count()


@pytest.fixture
def target(platform_postgres: Postgres) -> str:
    """A new, empty platform database on the platform's PostgreSQL."""
    name = f"app_{next(_databases)}"
    with platform_postgres.connect() as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return name


def source_parts(server: Postgres) -> dict[str, str]:
    """The source URL's parts, as components.imports hands them over."""
    return {
        "host": "127.0.0.1",
        "port": str(server.port),
        "user": SOURCE_USER,
        "password": SOURCE_PASSWORD,
        "database": "postgres_source",
        "sslmode": "prefer",
    }


def install(host: Host, layout: render.Layout, bundle: str, secrets: str, image: str) -> None:
    script = remote_script(
        "install-imports",
        ROOT=str(host.root),
        BUNDLE=bundle,
        SCRIPTS_DIR=layout.scripts_dir,
        SECRETS_DIR=layout.secrets_dir,
        UNIT_PREFIX=layout.unit_prefix,
        IMAGE=image,
    )
    result = run(["bash", "-c", script], input=secrets, env=host.env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"installed: systemctl start {layout.unit_prefix}"


def postgres_host(
    tmp_path: Path,
    supabase: Postgres,
    platform: Postgres,
    database: str,
    **config: Any,
) -> Host:
    host = Host(tmp_path)
    target = Database("postgres", "127.0.0.1", platform.port, "postgres", database, "unused")
    settings = PostgresImportConfig.model_validate(config)
    install(
        host,
        render.POSTGRES,
        render.postgres_import_bundle(settings, target, CLIENT_IMAGE),
        render.postgres_import_secrets(source_parts(supabase), SUPERUSER_PASSWORD),
        CLIENT_IMAGE,
    )
    return host


def import_postgres(host: Host, replace: bool = False) -> Any:
    unit = f"{render.POSTGRES.unit_prefix}{'-replace' if replace else ''}.service"
    return host.run_unit(unit, render.POSTGRES.tools_dir)


def contents(server: Postgres, user: str, password: str, database: str) -> dict[str, Any]:
    with server.connect(user, password, database) as db:
        return {
            table: db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()  # noqa: S608
            for table in ("public.tours", "public.bookings", 'billing."Invoice"', "empty_table")
        }


def tables(server: Postgres, database: str) -> list[str]:
    with server.connect(dbname=database) as db:
        found = db.execute(
            "SELECT schemaname || '.' || tablename FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
        )
        return [row[0] for row in found.fetchall()]


def test_supabase_is_imported_table_by_table_and_a_second_run_changes_nothing(
    tmp_path: Path, supabase: Postgres, platform_postgres: Postgres, target: str
) -> None:
    host = postgres_host(tmp_path, supabase, platform_postgres, target)
    first = import_postgres(host)
    assert first.returncode == 0, first.stderr
    assert "schemas to import: billing public" in first.stdout
    assert "imported 4 tables" in first.stdout
    assert 'billing."Invoice"\t300\n' in first.stdout
    assert "public.bookings\t1200\n" in first.stdout
    # Supabase's own schemas stayed behind; the extensions came, so the defaults work.
    assert tables(platform_postgres, target) == [
        "billing.Invoice", "public.bookings", "public.empty_table", "public.tours",
    ]  # fmt: skip
    assert contents(platform_postgres, "postgres", SUPERUSER_PASSWORD, target) == contents(
        supabase, SOURCE_USER, SOURCE_PASSWORD, "postgres_source"
    )
    with platform_postgres.connect(dbname=target) as db:
        added = db.execute("INSERT INTO tours (name) VALUES ('new') RETURNING id, secret")
        assert all(added.fetchone() or [None])
        db.execute("DELETE FROM tours WHERE name = 'new'")

    second = import_postgres(host)
    assert second.returncode == 0, second.stderr
    assert "already imported: 4 tables, each with the source's row count; nothing changed" in (
        second.stdout
    )
    assert contents(platform_postgres, "postgres", SUPERUSER_PASSWORD, target) == contents(
        supabase, SOURCE_USER, SOURCE_PASSWORD, "postgres_source"
    )
    # No value, and no secret, in any command line the stand-in Docker was given.
    calls = [json.loads(line) for line in host.docker_log.read_text().splitlines()]
    assert {call[-1] for call in calls if call[0] == "pull"} == {CLIENT_IMAGE}
    for call in calls:
        assert SOURCE_PASSWORD not in " ".join(call)
        assert SUPERUSER_PASSWORD not in " ".join(call)


def test_a_database_that_holds_other_data_is_refused_unless_told(
    tmp_path: Path, supabase: Postgres, platform_postgres: Postgres, target: str
) -> None:
    with platform_postgres.connect(dbname=target) as db:
        db.execute("CREATE TABLE tours (id int)")
        db.execute("INSERT INTO tours VALUES (1)")
    host = postgres_host(tmp_path, supabase, platform_postgres, target)
    refused = import_postgres(host)
    assert refused.returncode == 1
    assert (
        f"import failed: the database {target} already holds 1 tables, and not the source's rows;"
        in refused.stderr
    )
    assert "systemctl start platform-import-postgres-replace" in refused.stderr
    assert tables(platform_postgres, target) == ["public.tours"]  # untouched

    replaced = import_postgres(host, replace=True)
    assert replaced.returncode == 0, replaced.stderr
    assert f"replaced what {target} held in those schemas" in replaced.stdout
    assert contents(platform_postgres, "postgres", SUPERUSER_PASSWORD, target) == contents(
        supabase, SOURCE_USER, SOURCE_PASSWORD, "postgres_source"
    )


def test_a_replace_that_fails_keeps_what_the_database_held(
    tmp_path: Path, supabase: Postgres, platform_postgres: Postgres, target: str
) -> None:
    """The drops of a replace are in the restore's transaction: a restore stopped by a policy
    calling into a schema left behind leaves the earlier import as it was."""
    host = postgres_host(tmp_path, supabase, platform_postgres, target)
    assert import_postgres(host).returncode == 0
    before = contents(platform_postgres, "postgres", SUPERUSER_PASSWORD, target)
    with supabase.connect(SOURCE_USER, SOURCE_PASSWORD, "postgres_source") as db:
        db.execute("CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql AS 'SELECT NULL::uuid'")
        db.execute("CREATE POLICY own ON tours USING (id = auth.uid())")
    try:
        failed = import_postgres(host, replace=True)
    finally:
        with supabase.connect(SOURCE_USER, SOURCE_PASSWORD, "postgres_source") as db:
            db.execute("DROP POLICY own ON tours")
            db.execute("DROP FUNCTION auth.uid()")
    assert failed.returncode == 1
    assert "nothing was kept" in failed.stderr
    assert contents(platform_postgres, "postgres", SUPERUSER_PASSWORD, target) == before


def test_policies_for_supabase_roles_and_large_objects_come_and_replace_again(
    tmp_path: Path, supabase: Postgres, platform_postgres: Postgres, target: str
) -> None:
    """Supabase's policies name its roles (anon, authenticated), which the platform lacks:
    they are created without login so the policies restore. Large objects belong to no
    schema: they come with the dump, count in the check, and a second replace unlinks them
    before restoring them again."""
    with supabase.connect(SOURCE_USER, SOURCE_PASSWORD, "postgres_source") as db:
        db.execute("CREATE ROLE authenticated NOLOGIN")
        db.execute("CREATE ROLE anon NOLOGIN")
        db.execute("ALTER TABLE tours ENABLE ROW LEVEL SECURITY")
        db.execute("CREATE POLICY readers ON tours FOR SELECT TO authenticated, anon USING (true)")
        db.execute("SELECT lo_from_bytea(424242, 'waiver scan')")
    try:
        host = postgres_host(tmp_path, supabase, platform_postgres, target)
        first = import_postgres(host)
        assert first.returncode == 0, first.stderr
        assert (
            "roles the policies name, created without login where missing: anon authenticated"
            in first.stdout
        )
        assert "(large objects)\t1\n" in first.stdout
        with platform_postgres.connect(dbname=target) as db:
            policy = db.execute("SELECT roles::text[] FROM pg_policies WHERE policyname = %s",
                                ["readers"])  # fmt: skip
            assert policy.fetchone() == (["anon", "authenticated"],)
            logins = db.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'anon'")
            assert logins.fetchone() == (False,)
            scan = db.execute("SELECT lo_get(424242)").fetchone()
            assert scan == (b"waiver scan",)
        assert "already imported" in import_postgres(host).stdout
        for _ in range(2):
            again = import_postgres(host, replace=True)
            assert again.returncode == 0, again.stderr
        with platform_postgres.connect(dbname=target) as db:
            assert db.execute("SELECT count(*) FROM pg_largeobject_metadata").fetchone() == (1,)
        with supabase.connect(SOURCE_USER, SOURCE_PASSWORD, "postgres_source") as db:
            db.execute("SELECT lo_from_bytea(424243, 'another')")
        changed = import_postgres(host)
        assert changed.returncode == 1
        assert "not the source's rows" in changed.stderr
    finally:
        with supabase.connect(SOURCE_USER, SOURCE_PASSWORD, "postgres_source") as db:
            db.execute("SELECT lo_unlink(oid) FROM pg_largeobject_metadata")
            db.execute("DROP POLICY readers ON tours")
            db.execute("ALTER TABLE tours DISABLE ROW LEVEL SECURITY")
            db.execute("DROP ROLE authenticated")
            db.execute("DROP ROLE anon")


def test_the_schemas_to_take_are_configurable(
    tmp_path: Path, supabase: Postgres, platform_postgres: Postgres, target: str
) -> None:
    host = postgres_host(tmp_path, supabase, platform_postgres, target, schemas=["billing"])
    result = import_postgres(host)
    assert result.returncode == 0, result.stderr
    assert tables(platform_postgres, target) == ["billing.Invoice"]

    (tmp_path / "other").mkdir()
    other = postgres_host(
        tmp_path / "other", supabase, platform_postgres, target, schemas=["missing"]
    )
    missing = import_postgres(other)
    assert missing.returncode == 1
    assert "the source has no schema missing (imports.postgres.schemas)" in missing.stderr


def test_a_foreign_key_into_a_schema_left_behind_is_named_before_anything_is_done(
    tmp_path: Path, supabase: Postgres, platform_postgres: Postgres, target: str
) -> None:
    with supabase.connect(SOURCE_USER, SOURCE_PASSWORD, "postgres_source") as db:
        db.execute("CREATE TABLE profiles (id uuid PRIMARY KEY REFERENCES auth.users)")
    try:
        host = postgres_host(tmp_path, supabase, platform_postgres, target)
        result = import_postgres(host)
    finally:
        with supabase.connect(SOURCE_USER, SOURCE_PASSWORD, "postgres_source") as db:
            db.execute("DROP TABLE profiles")
    assert result.returncode == 1
    assert "tables refer to schemas the import leaves behind: profiles references auth.users;" in (
        result.stderr
    )
    assert tables(platform_postgres, target) == []


def test_a_restore_that_fails_keeps_nothing_and_says_why(
    tmp_path: Path, supabase: Postgres, platform_postgres: Postgres, target: str
) -> None:
    """A Supabase policy calling auth.uid(), a function of a schema left behind: the restore
    stops there, in its one transaction, so the database stays empty."""
    with supabase.connect(SOURCE_USER, SOURCE_PASSWORD, "postgres_source") as db:
        db.execute("CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql AS 'SELECT NULL::uuid'")
        db.execute("ALTER TABLE tours ENABLE ROW LEVEL SECURITY")
        db.execute("CREATE POLICY own ON tours USING (id = auth.uid())")
    try:
        host = postgres_host(tmp_path, supabase, platform_postgres, target)
        result = import_postgres(host)
    finally:
        with supabase.connect(SOURCE_USER, SOURCE_PASSWORD, "postgres_source") as db:
            db.execute("DROP POLICY own ON tours")
            db.execute("ALTER TABLE tours DISABLE ROW LEVEL SECURITY")
            db.execute("DROP FUNCTION auth.uid()")
    assert result.returncode == 1
    assert "auth.uid()" in result.stderr
    assert f"import failed: the restore into {target} failed (above); nothing was kept" in (
        result.stderr
    )
    assert tables(platform_postgres, target) == []


def test_a_source_that_cannot_be_reached_fails_without_its_secrets(
    tmp_path: Path, supabase: Postgres, platform_postgres: Postgres, target: str
) -> None:
    host = postgres_host(tmp_path, supabase, platform_postgres, target)
    result = host.run_unit(
        f"{render.POSTGRES.unit_prefix}.service",
        render.POSTGRES.tools_dir,
        SOURCE_PGPASSWORD="wrong-password",
    )
    assert result.returncode == 1
    assert "import failed: cannot connect to the source: check the secret config key" in (
        result.stderr
    )
    assert "wrong-password" not in result.stdout + result.stderr


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    target = Database("postgres", "pg-uuid", 5432, "postgres", "app", "postgres:16.4-alpine")
    buckets = BucketsImportConfig.model_validate(
        {
            "endpoint": "https://project.supabase.co/storage/v1/s3",
            "region": "eu-central-1",
            "buckets": [{"source": "images", "target": "tour-images"}],
        }
    )
    units = [
        *verify_root(
            tmp_path, render.postgres_import_bundle(PostgresImportConfig(), target, CLIENT_IMAGE)
        ),
        *unpack_units(tmp_path, render.buckets_import_bundle(buckets, Minio("minio-x", 9000, ()))),
    ]
    assert [Path(unit).name for unit in units] == [
        "platform-import-postgres-replace.service",
        "platform-import-postgres.service",
        "platform-import-buckets.service",
    ]
    result = run(["systemd-analyze", "verify", "--man=no", f"--root={tmp_path}", *units])
    assert (result.returncode, result.stderr) == (0, "")


def unpack_units(root: Path, bundle: str) -> list[str]:
    names = unpack(bundle, root)
    return [str(root / name) for name in names if name.startswith("etc/systemd/system/")]


# --- buckets ------------------------------------------------------------------------------


SUPABASE_BUCKETS = {"supabase-images": "tour-images", "supabase-documents": "documents"}


@pytest.fixture
def storage(buckets: Any) -> Iterator[Any]:
    """Supabase Storage's side, on the same S3 server as MinIO's buckets (tests/offsite.py)."""
    for bucket in SUPABASE_BUCKETS:
        buckets.create_bucket(Bucket=bucket)
    buckets.put_object(Bucket="supabase-images", Key="tours/1.jpg", Body=b"x" * 5000)
    buckets.put_object(Bucket="supabase-images", Key="tours/2.jpg", Body=b"y" * 7000)
    buckets.put_object(Bucket="supabase-images", Key=".emptyFolderPlaceholder", Body=b"")
    buckets.put_object(Bucket="supabase-documents", Key="waivers/a b.pdf", Body=b"%PDF" * 10)
    # A key rclone's --files-from would read as a comment, one with a leading space.
    buckets.put_object(Bucket="supabase-documents", Key="# notes.txt", Body=b"n" * 11)
    buckets.put_object(Bucket="supabase-documents", Key=" leading.txt", Body=b"l" * 9)
    yield buckets
    for bucket in SUPABASE_BUCKETS:
        for item in buckets.list_objects_v2(Bucket=bucket).get("Contents", []):
            buckets.delete_object(Bucket=bucket, Key=item["Key"])
        buckets.delete_bucket(Bucket=bucket)


def buckets_host(tmp_path: Path, s3: Any) -> tuple[Host, dict[str, str]]:
    host = Host(tmp_path)
    config = BucketsImportConfig.model_validate(
        {
            "endpoint": "https://project.supabase.co/storage/v1/s3",
            "region": "us-east-1",
            "buckets": [{"source": s, "target": t} for s, t in SUPABASE_BUCKETS.items()],
        }
    )
    install(
        host,
        render.BUCKETS,
        render.buckets_import_bundle(config, Minio("minio-uuid", 9000, ())),
        render.buckets_import_secrets(
            "supabase-key-id",
            "supabase-secret-key",
            {"accessKey": "root", "secretKey": "root-secret"},
        ),
        config.rclone_image,
    )
    # Both remotes at moto's server (the unit names Supabase's and MinIO's).
    endpoint = s3.meta.endpoint_url
    return host, {
        "RCLONE_CONFIG_SOURCE_ENDPOINT": endpoint,
        "RCLONE_CONFIG_MINIO_ENDPOINT": endpoint,
    }


def listing(s3: Any, bucket: str) -> dict[str, tuple[int, Any]]:
    found = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"]: (item["Size"], item["LastModified"]) for item in found}


def test_buckets_are_imported_verified_and_a_second_run_copies_nothing(
    tmp_path: Path, storage: Any
) -> None:
    storage.put_object(Bucket="tour-images", Key="uploaded-since.jpg", Body=b"z")
    host, endpoints = buckets_host(tmp_path, storage)
    first = host.run_unit(f"{render.BUCKETS.unit_prefix}.service", render.BUCKETS.tools_dir,
                          **endpoints)  # fmt: skip
    assert first.returncode == 0, first.stderr
    verified = "every object in MinIO with its size"
    assert first.stdout.splitlines() == [
        f"supabase-images -> tour-images: 3 objects, 12000 bytes, {verified}",
        f"supabase-documents -> documents: 3 objects, 60 bytes, {verified}",
    ]
    for source, bucket in SUPABASE_BUCKETS.items():
        copied = {key: size for key, (size, _) in listing(storage, bucket).items()}
        expected = {key: size for key, (size, _) in listing(storage, source).items()}
        assert {k: v for k, v in copied.items() if k != "uploaded-since.jpg"} == expected
    assert "uploaded-since.jpg" in listing(storage, "tour-images")  # kept

    before = {bucket: listing(storage, bucket) for bucket in SUPABASE_BUCKETS.values()}
    second = host.run_unit(f"{render.BUCKETS.unit_prefix}.service", render.BUCKETS.tools_dir,
                           **endpoints)  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert {bucket: listing(storage, bucket) for bucket in SUPABASE_BUCKETS.values()} == before
    for call in (json.loads(line) for line in host.docker_log.read_text().splitlines()):
        assert "supabase-secret-key" not in " ".join(call)
        assert "root-secret" not in " ".join(call)


def test_a_bucket_that_cannot_be_read_fails_loudly(tmp_path: Path, storage: Any) -> None:
    host, endpoints = buckets_host(tmp_path, storage)
    for key in ("waivers/a b.pdf", "# notes.txt", " leading.txt"):
        storage.delete_object(Bucket="supabase-documents", Key=key)
    storage.delete_bucket(Bucket="supabase-documents")
    try:
        result = host.run_unit(f"{render.BUCKETS.unit_prefix}.service", render.BUCKETS.tools_dir,
                               **endpoints)  # fmt: skip
    finally:
        storage.create_bucket(Bucket="supabase-documents")
    assert result.returncode == 1
    assert "import failed: cannot list the bucket supabase-documents at the source" in result.stderr


# --- the stack: config, secrets, the install steps, the runbook ---------------------------

SOURCE_URL = "postgresql://postgres:SourcePassw0rd@db.abcdefghijk.supabase.co:5432/postgres"
IMPORT_SECRETS = {
    "platform:importSourceUrl": SOURCE_URL,
    "platform:importAccessKeyId": "supabase-access-key",
    "platform:importSecretAccessKey": "supabase-secret-access-key",
}


def with_imports(**imports: Any) -> dict[str, Any]:
    config = tour_crm_config()
    config["services"]["minio"]["buckets"] = [{"name": "tour-images"}]
    return {**config, "imports": imports}


BUCKETS_CONFIG = {
    "endpoint": "https://abcdefghijk.supabase.co/storage/v1/s3",
    "region": "eu-central-1",
    "buckets": [{"source": "images", "target": "tour-images"}],
}


def evaluate_imports(config: dict[str, Any], secrets: dict[str, str] = IMPORT_SECRETS) -> Any:
    return evaluate_config(config, extra=secrets, secret_keys=list(secrets))


def problems(recording: Any) -> list[str]:
    assert isinstance(recording.error, ConfigError), recording.error
    assert recording.resources == []  # before any resource
    return list(recording.error.problems)


def test_the_stack_installs_each_import_with_its_secrets_on_stdin_only() -> None:
    recording = evaluate_imports(with_imports(postgres={}, buckets=BUCKETS_CONFIG))
    assert recording.error is None, recording.error
    assert find_leaks(recording) == []
    assert recording.stack_outputs["importCommands"] == {
        "postgres": "systemctl start platform-import-postgres",
        "buckets": "systemctl start platform-import-buckets",
    }
    step = recording.named("imports-postgres-install").inputs
    assert is_secret(step["stdin"])
    assert "SourcePassw0rd" not in reveal(step["create"])
    with tarfile.open(
        fileobj=io.BytesIO(base64.b64decode(reveal(step["stdin"]))), mode="r:gz"
    ) as tar:
        source = tar.extractfile("source.env").read().decode()  # type: ignore[union-attr]
    assert source.splitlines() == [
        "SOURCE_PGDATABASE=postgres",
        "SOURCE_PGHOST=db.abcdefghijk.supabase.co",
        "SOURCE_PGPASSWORD=SourcePassw0rd",
        "SOURCE_PGPORT=5432",
        "SOURCE_PGSSLMODE=prefer",
        "SOURCE_PGUSER=postgres",
    ]
    postgres_id = recording.named("data-postgres").id
    bundle = reveal(step["create"]).split("BUNDLE=", 1)[1].split("\n", 1)[0]
    with tarfile.open(fileobj=io.BytesIO(base64.b64decode(bundle)), mode="r:gz") as tar:
        unit = tar.extractfile("etc/systemd/system/platform-import-postgres.service")
        text = unit.read().decode()  # type: ignore[union-attr]
    assert f"Environment=PGHOST={postgres_id}\n" in text
    assert "Environment=SKIP_SCHEMAS=_analytics,_realtime,_supavisor,_timescaledb_cache," in text
    buckets = recording.named("imports-buckets-install").inputs
    assert is_secret(buckets["stdin"])
    assert "supabase-secret-access-key" not in reveal(buckets["create"])


def test_dropping_imports_needs_no_secrets_and_installs_nothing() -> None:
    recording = evaluate_imports(tour_crm_config(), secrets={})
    assert recording.error is None, recording.error
    assert "importCommands" not in recording.stack_outputs
    assert not [r for r in recording.resources if r.name.startswith("imports")]


def test_import_config_mistakes_are_named_before_any_resource() -> None:
    config = with_value(with_imports(postgres={}), "services.postgres", DELETE)
    config = with_value(config, "services.pgbouncer", DELETE)
    assert any(
        "imports.postgres: imports.postgres copies into services.postgres, which is not "
        "configured" in problem
        for problem in problems(evaluate_imports(config, {}))
    )
    wrong_target = with_value(BUCKETS_CONFIG, "buckets[0].target", "photos")
    assert any(
        "imports.buckets.buckets[0].target: the import's target bucket 'photos' is not in "
        "services.minio.buckets" in problem
        for problem in problems(evaluate_imports(with_imports(buckets=wrong_target)))
    )
    # Supabase Storage's bucket names may have capitals, '_' and '.'; MinIO's may not.
    supabase_named = with_value(BUCKETS_CONFIG, "buckets[0].source", "Tour_Images.v2")
    assert evaluate_imports(with_imports(postgres={}, buckets=supabase_named)).error is None
    capitals = with_value(BUCKETS_CONFIG, "buckets[0].target", "Tour_Images")
    assert any(
        "imports.buckets.buckets[0].target" in problem and "bucket name: 3-63" in problem
        for problem in problems(evaluate_imports(with_imports(buckets=capitals)))
    )
    both = with_imports(postgres={"schemas": ["auth"]})
    assert any(
        "the schema 'auth' is both taken and skipped" in problem
        for problem in problems(evaluate_imports(both))
    )


def test_import_secrets_are_checked_without_showing_them() -> None:
    found = problems(evaluate_imports(with_imports(postgres={}, buckets=BUCKETS_CONFIG), {}))
    for key in ("importSourceUrl", "importAccessKeyId", "importSecretAccessKey"):
        assert any(
            problem.startswith(f"platform:{key}: required because imports.") for problem in found
        )
    pooler = SOURCE_URL.replace(
        "db.abcdefghijk.supabase.co:5432", "aws-0-eu-central-1.pooler.supabase.com:6543"
    )
    odd = SOURCE_URL.replace("SourcePassw0rd", "p%23ss%24word")
    for url, expected in (
        (pooler, "transaction pooler (port 6543)"),
        (odd, "Reset database password"),
        (SOURCE_URL + "?sslmode=verify-full", "give sslmode=require"),
    ):
        secrets = {**IMPORT_SECRETS, "platform:importSourceUrl": url}
        found = problems(
            evaluate_imports(with_imports(postgres={}, buckets=BUCKETS_CONFIG), secrets)
        )
        assert any(expected in problem for problem in found), found
        assert not any("p#ss" in problem or "SourcePassw0rd" in problem for problem in found)


def test_the_runbook_starts_the_services_the_tests_run() -> None:
    operations = (PROJECT_DIR / "docs" / "operations.md").read_text()
    runbook = operations.split("## Bringing data in", 1)[1].split("\n## ", 1)[0]
    started = set(re.findall(r"systemctl start (platform-import-[a-z-]+)", runbook))
    postgres = render.postgres_import_files(
        PostgresImportConfig(), Database("postgres", "h", 5432, "u", "d", "i"), CLIENT_IMAGE
    )
    buckets = render.buckets_import_files(
        BucketsImportConfig.model_validate(BUCKETS_CONFIG), Minio("m", 9000, ())
    )
    installed = {Path(path).stem for path in [*postgres, *buckets] if path.endswith(".service")}
    assert started == installed == {
        "platform-import-postgres", "platform-import-postgres-replace", "platform-import-buckets",
    }  # fmt: skip


def test_installing_again_replaces_and_removing_leaves_nothing_behind(
    tmp_path: Path, supabase: Postgres, platform_postgres: Postgres, target: str
) -> None:
    host = postgres_host(tmp_path, supabase, platform_postgres, target)
    layout = render.POSTGRES
    files = sorted(str(path) for path in host.root.rglob("*"))
    stale = host.root / layout.scripts_dir.lstrip("/") / "old.sh"
    stale.write_text("#!/bin/sh\n")
    settings = PostgresImportConfig()
    target_db = Database("postgres", "127.0.0.1", platform_postgres.port, "postgres", target, "-")
    install(
        host,
        layout,
        render.postgres_import_bundle(settings, target_db, CLIENT_IMAGE),
        render.postgres_import_secrets(source_parts(supabase), SUPERUSER_PASSWORD),
        CLIENT_IMAGE,
    )
    assert sorted(str(path) for path in host.root.rglob("*")) == files
    secrets = host.root / layout.secrets_dir.lstrip("/")
    assert oct(secrets.stat().st_mode & 0o777) == "0o700"
    assert oct((secrets / "source.env").stat().st_mode & 0o777) == "0o600"

    removed = run(
        ["bash", "-c", remote_script(
            "remove-imports", ROOT=str(host.root), SCRIPTS_DIR=layout.scripts_dir,
            SECRETS_DIR=layout.secrets_dir, UNIT_PREFIX=layout.unit_prefix,
        )],
        env=host.env(),
    )  # fmt: skip
    assert removed.returncode == 0, removed.stderr
    assert [path for path in host.root.rglob("*") if path.is_file()] == []
    assert host.systemctl()[-1] == "daemon-reload"


@pytest.mark.parametrize("name", ["pg-import", "buckets-import"])
def test_the_import_scripts_pass_shellcheck(name: str) -> None:
    result = run(["shellcheck", "--severity=style", str(SCRIPTS / f"{name}.sh")])
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("name", ["install-imports", "remove-imports"])
def test_the_install_steps_pass_shellcheck(name: str, tmp_path: Path) -> None:
    script = tmp_path / f"{name}.sh"
    script.write_text(remote_script(name, **dict.fromkeys(required_params(name), "value")))
    result = run(["shellcheck", "--severity=style", str(script)])
    assert result.returncode == 0, result.stdout
