"""The rendered cloud-init user data, checked by the real `cloud-init schema`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import ServerConfig, parse_stack_config
from offline.engine import is_secret, reveal
from offline.stack_files import stack_names
from render.cloud_init import MAX_USER_DATA_BYTES, SSHD_CHECK, cloud_init, dump_user_data
from render.host_files import FAIL2BAN_JAIL_PATH, SSHD_DROPIN_PATH, SYSCTL_PATH, sshd_dropin
from tests.sshd import SSHD, ubuntu_like_sshd_config
from tests.support import (
    PROJECT,
    evaluate_stack,
    generated_host_key,
    minimal_config,
    run,
    with_value,
    write,
)

SCHEMA = Path("/usr/lib/python3/dist-packages/cloudinit/config/schemas/schema-cloud-config-v1.json")


def user_data_of_stack(stack: str) -> str:
    (server,) = evaluate_stack(stack).of_type("hcloud:index/server:Server")
    assert is_secret(server.inputs["userData"])  # it carries the host key's private half
    return str(reveal(server.inputs["userData"]))


def render(values: dict[str, Any]) -> dict[str, Any]:
    config = parse_stack_config(values, PROJECT)
    return cloud_init(
        config.server, config.ssh, config.coolify.docker_address_pool, generated_host_key()
    )


def schema_check(path: Path) -> tuple[int, str]:
    result = run(["cloud-init", "schema", "--config-file", str(path)])
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("stack", stack_names())
def test_cloud_init_schema_accepts_the_user_data_of_every_stack(stack: str, tmp_path: Path) -> None:
    user_data = user_data_of_stack(stack)
    code, output = schema_check(write(tmp_path / "user-data", user_data))
    assert code == 0, output
    assert "Valid cloud-config" in output


def test_cloud_init_schema_rejects_a_broken_document(tmp_path: Path) -> None:
    """The check above is not vacuous."""
    document = render(minimal_config())
    document["swap"]["size"] = "lots"
    code, output = schema_check(write(tmp_path / "user-data", dump_user_data(document)))
    assert code != 0
    assert "swap.size" in output


def test_every_top_level_key_is_a_cloud_init_module_key() -> None:
    """cloud-init 22.4's schema lets unknown top-level keys pass, so a typo would be silently
    ignored on the server; check them against the schema's own list."""
    schema = json.loads(SCHEMA.read_text())
    known = {
        key
        for ref in schema["allOf"]
        for key in schema["$defs"][ref["$ref"].split("/")[-1]].get("properties", {})
    }
    assert set(render(minimal_config())) <= known


def test_user_data_starts_with_the_cloud_config_header() -> None:
    assert dump_user_data(render(minimal_config())).startswith("#cloud-config\n")


def test_admin_user_is_a_passwordless_sudoer_with_the_keys() -> None:
    values = with_value(minimal_config(), "server.adminUser", "ops")
    (user,) = render(values)["users"]
    assert user["name"] == "ops"
    assert user["groups"] == ["sudo"]
    assert user["lock_passwd"] is True
    assert user["ssh_authorized_keys"] == [values["ssh"]["authorizedKeys"][0]["publicKey"]]


def test_root_keeps_key_login_and_passwords_are_off() -> None:
    document = render(minimal_config())
    assert document["disable_root"] is False
    assert document["ssh_pwauth"] is False


def test_the_host_files_are_written() -> None:
    files = {f["path"]: f for f in render(minimal_config())["write_files"]}
    assert {SSHD_DROPIN_PATH, FAIL2BAN_JAIL_PATH, SYSCTL_PATH} <= set(files)
    assert "PasswordAuthentication no" in files[SSHD_DROPIN_PATH]["content"]
    assert "vm.overcommit_memory = 1" in files[SYSCTL_PATH]["content"]
    assert "172.16.0.0/12" in files[FAIL2BAN_JAIL_PATH]["content"]
    assert files.pop(SSHD_DROPIN_PATH)["permissions"] == "0600"
    assert all(f["owner"] == "root:root" and f["permissions"] == "0644" for f in files.values())


def test_services_and_time() -> None:
    document = render(minimal_config())
    assert document["timezone"] == "UTC"
    assert {"fail2ban", "unattended-upgrades"} <= set(document["packages"])
    assert document["package_reboot_if_required"] is False
    assert SSHD_CHECK in document["runcmd"]


def test_the_first_boot_sshd_check_works_before_ssh_has_started(tmp_path: Path) -> None:
    """On Ubuntu 24.04 ssh is socket-activated: at runcmd, /run/sshd may not exist yet, and
    sshd -t fails with "Missing privilege separation directory". Run the runcmd's check with
    a /run of its own (a mount namespace), sshd on our drop-in, and a stand-in systemctl."""
    config = ubuntu_like_sshd_config(tmp_path, sshd_dropin("deploy", 3))
    stubs = tmp_path / "bin"
    write(stubs / "sshd", f'#!/bin/sh\nexec {SSHD} -f {config} "$@"\n').chmod(0o755)
    log = tmp_path / "systemctl.log"
    write(stubs / "systemctl", f'#!/bin/sh\necho "$@" >> {log}\n').chmod(0o755)
    empty_run = "mount -t tmpfs tmpfs /run && test ! -e /run/sshd"
    env = {"PATH": f"{stubs}:/usr/sbin:/usr/bin:/sbin:/bin"}

    def in_fresh_run(command: str) -> subprocess.CompletedProcess[str]:
        script = f"{empty_run} && {command}"
        return run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                   env=env)  # fmt: skip

    without = in_fresh_run("sshd -t")
    assert without.returncode != 0
    assert "Missing privilege separation directory: /run/sshd" in without.stderr
    dropin = config.parent / "sshd_config.d" / "00-platform-hardening.conf"
    check = SSHD_CHECK[2].replace(SSHD_DROPIN_PATH, str(dropin))
    result = in_fresh_run(check)
    assert result.returncode == 0, result.stderr
    assert log.read_text() == "try-reload-or-restart ssh.service\n"
    # A drop-in sshd refuses is put aside, ssh left alone, and the runcmd fails.
    dropin.write_text(dropin.read_text() + "NoSuchOption yes\n")
    result = in_fresh_run(check)
    assert result.returncode == 1
    assert "Bad configuration option: NoSuchOption" in result.stderr
    assert not dropin.exists()
    assert dropin.with_name(dropin.name + ".rejected").exists()
    assert log.read_text() == "try-reload-or-restart ssh.service\n"
    assert in_fresh_run("install -d /run/sshd && sshd -t").returncode == 0  # Ubuntu's own


@pytest.mark.parametrize(
    ("server_type", "swap_gb"),
    [("cpx12", 1), ("cx23", 2), ("cx33", 4), ("cx43", 8), ("cx53", 8), ("ccx63", 8)],
)
def test_swap_is_sized_from_ram(server_type: str, swap_gb: int) -> None:
    server = ServerConfig.model_validate({"type": server_type, "location": "fsn1"})
    assert server.swap_size_gb == swap_gb
    document = cloud_init(
        server,
        parse_stack_config(minimal_config(), PROJECT).ssh,
        "172.16.0.0/12",
        generated_host_key(),
    )
    assert document["swap"] == {
        "filename": "/swapfile", "size": swap_gb * 1024**3, "maxsize": swap_gb * 1024**3
    }  # fmt: skip


def test_the_server_gets_the_stacks_host_key_and_no_other() -> None:
    """The first SSH contact pins this key: cloud-init installs it in place of the image's and
    generates none (it makes keys only when it is given none)."""
    document = render(minimal_config())
    key = generated_host_key()
    assert document["ssh_deletekeys"] is True
    assert document["ssh_keys"] == {
        "ed25519_private": key.private_openssh,
        "ed25519_public": key.public_openssh.strip(),
    }
    assert "ssh_genkeytypes" not in document


def test_swap_size_can_be_set_or_turned_off() -> None:
    assert render(with_value(minimal_config(), "server.swapGb", 3))["swap"]["size"] == 3 * 1024**3
    assert "swap" not in render(with_value(minimal_config(), "server.swapGb", 0))


def test_user_data_over_hetzners_limit_is_refused() -> None:
    document = render(minimal_config())
    document["write_files"].append({"path": "/big", "content": "x" * MAX_USER_DATA_BYTES})
    with pytest.raises(ValueError, match="32 KiB"):
        dump_user_data(document)


def test_dump_round_trips_as_yaml() -> None:
    document = render(minimal_config())
    assert yaml.safe_load(dump_user_data(document)) == document
