"""MinIO: bucket policies checked by a real S3 server (moto's), app policies as data, the
setup script under a stub mc, and production's declaration with per-app keys."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto.server import ThreadedMotoServer

from offline.engine import Recording, find_leaks, is_secret, reveal
from render.minio import app_policy, public_read_policy
from render.remote import script_file
from tests.support import evaluate_ok, evaluate_stack, tour_crm_config

BUCKETS = [("tour-images", "public-read"), ("documents", "private")]


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def anonymous_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url) as response:  # noqa: S310 -- a loopback test server
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_only_public_buckets_can_be_read_anonymously(s3_server: str) -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_server,
        aws_access_key_id="root",
        aws_secret_access_key="root-secret",
        region_name="us-east-1",
    )
    for bucket, access in BUCKETS:
        s3.create_bucket(Bucket=bucket)
        if access == "public-read":
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public_read_policy(bucket)))
            stored = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
            assert stored["Statement"][0]["Action"] == ["s3:GetObject"]
        s3.put_object(Bucket=bucket, Key="photo.jpg", Body=b"jpeg")
    assert anonymous_status(f"{s3_server}/tour-images/photo.jpg") == 200
    assert anonymous_status(f"{s3_server}/documents/photo.jpg") == 403


def test_public_read_allows_downloads_and_nothing_else() -> None:
    (statement,) = public_read_policy("tour-images")["Statement"]
    assert statement["Action"] == ["s3:GetObject"]  # no listing, no writing
    assert statement["Resource"] == ["arn:aws:s3:::tour-images/*"]


def test_an_app_policy_names_its_buckets_only() -> None:
    policy = app_policy(["tour-images", "documents"])
    resources = [r for statement in policy["Statement"] for r in statement["Resource"]]
    assert sorted(resources) == ["arn:aws:s3:::documents", "arn:aws:s3:::documents/*",
                                 "arn:aws:s3:::tour-images", "arn:aws:s3:::tour-images/*"]  # fmt: skip
    actions = {a for statement in policy["Statement"] for a in statement["Action"]}
    assert all(action.startswith("s3:") and "*" not in action for action in actions)
    assert not {"s3:PutBucketPolicy", "s3:DeleteBucket", "s3:CreateBucket"} & actions
    assert all(statement["Effect"] == "Allow" for statement in policy["Statement"])


# --- the setup script under a stub mc -------------------------------------------------------

MC_STUB = r"""#!PYTHON
import json, os, sys
from pathlib import Path
state = Path(os.environ["STUB_STATE"])
args = sys.argv[1:]
stdin = sys.stdin.read() if args[:3] == ["admin", "user", "add"] else None
with open(state / "calls.jsonl", "a") as log:
    log.write(json.dumps({"argv": ["mc", *args], "stdin": stdin}) + "\n")
if args[:3] == ["admin", "user", "info"]:
    attached = state / f"attached-{args[4]}"
    print(f"AccessKey: {args[4]}\nPolicyName: {attached.read_text() if attached.exists() else ''}")
if args[:3] == ["admin", "policy", "attach"]:
    (state / f"attached-{args[-1]}").write_text(args[4])
"""


def run_setup(
    tmp_path: Path, env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    stub = bin_dir / "mc"
    stub.write_text(MC_STUB.replace("#!PYTHON", f"#!{sys.executable}"))
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    script = tmp_path / "minio-setup.sh"
    script.write_text(script_file("minio-setup"))
    (tmp_path / "calls.jsonl").write_text("")
    environment = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "STUB_STATE": str(tmp_path),
        **env,
    }
    result = subprocess.run(
        ["sh", str(script)], capture_output=True, text=True, env=environment, check=False
    )
    calls = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    return result, calls


SETUP_ENV = {
    "MC_HOST_platform": "http://rootuser:rootpassword@minio:9000",
    "SETUP_DIR": "/setup",
    "BUCKETS": "tour-images:public-read documents:private",
    "APPS": "crm:CRMKEY0123:crmSecretKey0123456789 book:BOOKKEY012:bookSecretKey0123456789",
}


def test_the_setup_creates_buckets_and_app_users(tmp_path: Path) -> None:
    result, calls = run_setup(tmp_path, SETUP_ENV)
    assert result.returncode == 0, result.stderr
    argv = [call["argv"] for call in calls]
    assert argv == [
        ["mc", "mb", "--ignore-existing", "platform/tour-images"],
        ["mc", "anonymous", "set-json", "/setup/bucket-tour-images.json", "platform/tour-images"],
        ["mc", "mb", "--ignore-existing", "platform/documents"],
        ["mc", "anonymous", "set", "private", "platform/documents"],
        ["mc", "admin", "policy", "create", "platform", "app-crm", "/setup/app-crm.json"],
        ["mc", "admin", "user", "add", "platform", "CRMKEY0123"],
        ["mc", "admin", "user", "info", "platform", "CRMKEY0123"],
        ["mc", "admin", "policy", "attach", "platform", "app-crm", "--user", "CRMKEY0123"],
        ["mc", "admin", "policy", "create", "platform", "app-book", "/setup/app-book.json"],
        ["mc", "admin", "user", "add", "platform", "BOOKKEY012"],
        ["mc", "admin", "user", "info", "platform", "BOOKKEY012"],
        ["mc", "admin", "policy", "attach", "platform", "app-book", "--user", "BOOKKEY012"],
    ]
    assert calls[5]["stdin"] == "crmSecretKey0123456789\n"  # the secret goes on stdin
    for call in argv:
        assert not any("SecretKey" in part for part in call)


def test_a_setup_rerun_does_not_attach_again(tmp_path: Path) -> None:
    run_setup(tmp_path, SETUP_ENV)
    result, calls = run_setup(tmp_path, SETUP_ENV)
    assert result.returncode == 0
    assert not [c for c in calls if c["argv"][1:4] == ["admin", "policy", "attach"]]


def test_the_setup_passes_shellcheck_as_posix_sh(tmp_path: Path) -> None:
    script = tmp_path / "minio-setup.sh"
    script.write_text(script_file("minio-setup"))
    result = subprocess.run(
        ["shellcheck", "-s", "sh", "--severity=style", str(script)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


# --- production ------------------------------------------------------------------------------


@cache
def production() -> Recording:
    return evaluate_stack("production")


def secret_of(name: str) -> str:
    return str(reveal(production().named(name).outputs["result"]))


def minio_compose() -> dict[str, Any]:
    service = production().named("data-minio")
    assert is_secret(service.inputs["compose"])
    return yaml.safe_load(reveal(service.inputs["compose"]))  # type: ignore[no-any-return]


def test_minio_runs_with_generated_root_credentials_and_its_public_url() -> None:
    minio = minio_compose()["services"]["minio"]
    assert minio["image"] == "ghcr.io/coollabsio/minio:RELEASE.2025-10-15T17-29-55Z"
    assert minio["environment"]["MINIO_ROOT_USER"] == secret_of("data-minio-root-user")
    assert minio["environment"]["MINIO_ROOT_PASSWORD"] == secret_of("data-minio-root-password")
    assert minio["environment"]["MINIO_SERVER_URL"] == "https://files.example.com"
    assert "ports" not in minio
    assert production().named("data-minio").inputs["urls"] == [
        {"name": "minio", "url": "https://files.example.com:9000"}
    ]
    assert production().named("data-minio").protect is True


def test_the_setup_gets_each_app_its_own_key_for_its_buckets() -> None:
    setup = minio_compose()["services"]["minio-setup"]
    assert setup["environment"]["BUCKETS"] == "tour-images:public-read documents:private"
    crm = f"crm:{secret_of('data-minio-crm-access-key')}:{secret_of('data-minio-crm-secret-key')}"
    book = (
        f"book:{secret_of('data-minio-book-access-key')}:{secret_of('data-minio-book-secret-key')}"
    )
    assert setup["environment"]["APPS"] == f"{crm} {book}"  # the worker uses no bucket: no key
    folder = setup["environment"]["SETUP_DIR"]
    assert setup["entrypoint"] == ["/bin/sh", f"{folder}/minio-setup.sh"]
    files = {volume["target"]: volume["content"] for volume in setup["volumes"]}
    assert json.loads(files[f"{folder}/app-book.json"]) == app_policy(["tour-images"])
    assert json.loads(files[f"{folder}/bucket-tour-images.json"]) == public_read_policy(
        "tour-images"
    )
    assert f"{folder}/bucket-documents.json" not in files
    assert files[f"{folder}/minio-setup.sh"] == script_file("minio-setup")


def test_s3_outputs() -> None:
    outputs = production().stack_outputs
    assert outputs["s3Endpoint"] == f"http://minio-{production().named('data-minio').id}:9000"
    assert outputs["s3PublicUrl"] == "https://files.example.com"
    assert outputs["s3Buckets"] == ["tour-images", "documents"]
    assert is_secret(outputs["s3Credentials"])
    assert reveal(outputs["s3Credentials"])["crm"] == {
        "accessKey": secret_of("data-minio-crm-access-key"), "secretKey": secret_of("data-minio-crm-secret-key")
    }  # fmt: skip
    assert set(reveal(outputs["s3Credentials"])) == {"crm", "book"}
    assert find_leaks(production()) == []


def test_s3_credentials_are_an_empty_map_when_no_app_has_a_bucket() -> None:
    outputs = evaluate_ok(tour_crm_config()).stack_outputs
    assert is_secret(outputs["s3Credentials"])
    assert reveal(outputs["s3Credentials"]) == {}
