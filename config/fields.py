"""Validated scalar types of the stack config.

Each validator raises a `PydanticCustomError` whose message says what is wrong and how to fix
it; `config.errors` prefixes it with the config key, so messages here never repeat the key.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import struct
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def config_error(message: str, at: str | None = None) -> PydanticCustomError:
    """A validation error with our own message (it quotes the value and says what to do).
    `at` names the key a check spanning several keys is about, relative to the model that
    raises it (e.g. "apps[1].domains[0]")."""
    return PydanticCustomError("config", message, {"at": at})


def config_errors(title: str, problems: list[tuple[str, str]]) -> ValidationError:
    """Several problems of one check at once, each (message, at) as config_error takes them,
    so that a user fixes them in one go; a validator raises it, and pydantic reports each."""
    return ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(type=config_error(message, at), loc=(), input=None)
            for message, at in problems
        ],
    )


def _strip_lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def check_dns_labels(name: str, what: str) -> None:
    """Raise unless every dot-separated label of `name` is a letter-digit-hyphen label."""
    if not name:
        raise config_error(f"{what} is empty")
    if not name.isascii():
        raise config_error(
            f"{what} {name!r} is not ASCII; write internationalised names in punycode (xn--...)",
        )
    if len(name) > 253:
        raise config_error(f"{what} {name!r} is longer than 253 characters")
    for label in name.split("."):
        if not _LABEL.match(label):
            raise config_error(
                f"{what} {name!r} has the invalid label {label!r}: labels are 1-63 characters of "
                "a-z, 0-9 and '-', and neither start nor end with '-'",
            )


def _domain(value: str) -> str:
    name = value.rstrip(".")
    check_dns_labels(name, "domain")
    labels = name.split(".")
    if len(labels) < 2:
        raise config_error(f"domain {value!r} needs at least two labels, like example.com")
    if labels[-1].isdigit():
        raise config_error(f"{value!r} looks like an IP address; give a domain name")
    return name


DomainName = Annotated[str, BeforeValidator(_strip_lower), AfterValidator(_domain)]


def _host(value: str) -> str:
    if value == "@":
        return value
    name = value.rstrip(".")
    check_dns_labels(name, "hostname")
    return name


HostName = Annotated[str, BeforeValidator(_strip_lower), AfterValidator(_host)]
"""A hostname relative to the stack's domain ("crm", "crm-staging"), "@" for the domain itself,
or a full name inside the domain ("crm.example.com")."""


def _matching(pattern: str, rule: str) -> AfterValidator:
    """A validator of a whole value against `pattern`, with the rule it breaks otherwise."""

    def check(value: str) -> str:
        if not re.fullmatch(pattern, value):
            raise config_error(f"{value!r} is not a valid {rule}")
        return value

    return AfterValidator(check)


ResourceName = Annotated[str, _matching(
    r"[a-z][a-z0-9-]{0,38}[a-z0-9]",
    "name: use 2-40 characters of a-z, 0-9 and '-', starting with a letter and not ending "
    "with '-' (names become hostnames)",
)]  # fmt: skip

# Coolify's patterns for an app's Dockerfile and base directory (bootstrap/helpers/api.php:162,
# :197; app/Support/ValidationPatterns.php:24, :30 at v4.3.10).
RepositoryFile = Annotated[str, _matching(
    r"/[a-zA-Z0-9._\-/~@+]+",
    "path for Coolify: from the repository's root, starting with '/' (/apps/web/Dockerfile), "
    "of letters, digits and . _ - / ~ @ + only",
)]  # fmt: skip
RepositoryDirectory = Annotated[str, _matching(
    r"/([a-zA-Z0-9._\-/~@+]*)?",
    "directory for Coolify: from the repository's root, starting with '/' (/ or /apps/web), "
    "of letters, digits and . _ - / ~ @ + only",
)]  # fmt: skip

# Coolify's rule for the install, build and start commands of a build (its
# SHELL_SAFE_COMMAND_PATTERN, app/Support/ValidationPatterns.php:74 at v4.3.10): words, quotes
# without `$` or backticks, && and ||; no ;, |, >, $ or line breaks.
BuildCommand = Annotated[str, _matching(
    r"""(?:[ \t]+|&&|\|\||"[^"$`\\\n\r]*"|'[^'\n\r]*'|[a-zA-Z0-9._\-/=:@,+\[\]{}#%^~*?!]+)+""",
    "command for Coolify: words, quoted text without $ or backticks, && and || only (no ;, "
    "|, >, $ or line breaks), e.g. npm ci && npm run build",
)]  # fmt: skip
# A container's CPU limit, in cores (Docker's --cpus, Coolify's limits_cpus): more than none,
# at most the largest server's.
CpuLimit = Annotated[float, Field(gt=0, le=64)]
# Coolify's rule for a health check's path (bootstrap/helpers/api.php:167 at v4.3.10).
HealthCheckPath = Annotated[str, _matching(
    r"/[a-zA-Z0-9/\-_.~%,;]*",
    "health check path for Coolify: starting with '/' (/health), of letters, digits and "
    "/ - _ . ~ % , ; only (no query string)",
)]  # fmt: skip
# A command Coolify runs in the app's container around a deploy. Coolify turns line breaks into
# spaces before it runs one (app/Jobs/ApplicationDeploymentJob.php:4811): one line, so what
# runs is what is written.
DeployCommand = Annotated[str, _matching(
    r"[^\r\n]*\S[^\r\n]*",
    "command: one line (chain steps with &&), e.g. npx prisma migrate deploy",
)]  # fmt: skip

_RESERVED_USERS = frozenset(
    {"root", "daemon", "bin", "sys", "sync", "games", "man", "mail", "news", "nobody",
     "sshd", "systemd-network", "syslog", "messagebus", "ubuntu", "admin"}
)  # fmt: skip


def _not_reserved(value: str) -> str:
    if value in _RESERVED_USERS:
        raise config_error(
            f"{value!r} is a system account on Ubuntu; choose another name such as 'deploy'",
        )
    return value


LinuxUserName = Annotated[str, _matching(
    r"[a-z_][a-z0-9_-]{0,31}",
    "Linux user name: up to 32 characters of a-z, 0-9, '_' and '-', starting with a letter "
    "or '_'",
), AfterValidator(_not_reserved)]  # fmt: skip

# Source addresses a Hetzner Cloud Firewall can never see: traffic reaches it from the internet.
_UNROUTABLE = [
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
              "127.0.0.0/8", "169.254.0.0/16", "fc00::/7", "fe80::/10", "::1/128")
]  # fmt: skip


def parse_network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        if "host bits set" in str(error):
            loose = ipaddress.ip_network(value, strict=False)
            address = value.split("/", maxsplit=1)[0]
            single = 32 if loose.version == 4 else 128
            raise config_error(
                f"{value!r} has host bits set; write the network {loose} or the single "
                f"address {address}/{single}",
            ) from None
        raise config_error(
            f"{value!r} is not an IP network; write it in CIDR form like 203.0.113.7/32 "
            "or 2001:db8::/48",
        ) from None


def _admin_cidr(value: str) -> str:
    if "/" not in value:
        raise config_error(
            f"{value!r} has no prefix length; write {value}/32 for one IPv4 address "
            "or /128 for one IPv6 address",
        )
    network = parse_network(value)
    for private in _UNROUTABLE:
        if network.version == private.version and network.subnet_of(private):  # type: ignore[arg-type]
            raise config_error(
                f"{value!r} is a private or local range, which the Hetzner Cloud Firewall never "
                "sees as a source; give the public address your SSH connections come from",
            )
    return str(network)


AdminCidr = Annotated[str, AfterValidator(_admin_cidr)]


def _private_cidr(value: str) -> str:
    network = parse_network(value)
    if not network.is_private or network.version != 4:
        raise config_error(f"{value!r} must be a private IPv4 range such as 172.16.0.0/12")
    return str(network)


PrivateIPv4Cidr = Annotated[str, AfterValidator(_private_cidr)]

# Key types sshd on Ubuntu 24.04 accepts for users; ssh-dss is disabled there.
_SSH_KEY_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-rsa",
)
MIN_RSA_BITS = 3072


def _read_ssh_string(blob: bytes, offset: int) -> tuple[bytes, int]:
    if offset + 4 > len(blob):
        raise ValueError("truncated")
    (length,) = struct.unpack(">I", blob[offset : offset + 4])
    end = offset + 4 + length
    if end > len(blob):
        raise ValueError("truncated")
    return blob[offset + 4 : end], end


def rsa_modulus_bits(blob: bytes) -> int:
    _, offset = _read_ssh_string(blob, 0)
    _, offset = _read_ssh_string(blob, offset)  # public exponent
    modulus, _ = _read_ssh_string(blob, offset)
    return int.from_bytes(modulus, "big").bit_length()


def _ssh_public_key(value: str) -> str:
    parts = value.strip().split()
    if len(parts) < 2:
        raise config_error(
            "this is not an OpenSSH public key; paste one line like 'ssh-ed25519 AAAA... you@host' "
            "(the contents of ~/.ssh/id_ed25519.pub)",
        )
    key_type, body = parts[0], parts[1]
    if key_type not in _SSH_KEY_TYPES:
        hint = " (DSA keys are refused by current OpenSSH)" if key_type == "ssh-dss" else ""
        raise config_error(
            f"the key type {key_type!r} is not accepted{hint}; use one of "
            f"{', '.join(_SSH_KEY_TYPES)} (ssh-keygen -t ed25519 makes a good one)",
        )
    try:
        blob = base64.b64decode(body, validate=True)
        embedded, _ = _read_ssh_string(blob, 0)
    except (binascii.Error, ValueError):
        raise config_error(
            f"the {key_type} key data is not valid base64; copy the .pub file again"
        ) from None
    if embedded.decode("ascii", "replace") != key_type:
        raise config_error(
            f"the key says {key_type} but its data holds a "
            f"{embedded.decode('ascii', 'replace')} key; copy the .pub file again",
        )
    if key_type == "ssh-rsa":
        try:
            bits = rsa_modulus_bits(blob)
        except ValueError:
            raise config_error("the RSA key data is truncated; copy the .pub file again") from None
        if bits < MIN_RSA_BITS:
            raise config_error(
                f"this is a {bits}-bit RSA key; use at least {MIN_RSA_BITS} bits, or better an "
                "ed25519 key (ssh-keygen -t ed25519)",
            )
    comment = " ".join(parts[2:])
    # install.sh runs `sed -i "/coolify/d" ~/.ssh/authorized_keys`: case-sensitive, whole line.
    if "coolify" in value:
        raise config_error(
            "the key line contains 'coolify': Coolify's installer deletes every "
            "authorized_keys line that contains it, which would lock this key out; "
            "change the key's comment",
        )
    return " ".join([key_type, body, comment]).strip()


SshPublicKey = Annotated[str, AfterValidator(_ssh_public_key)]


_IMAGE = re.compile(
    r"^(?P<name>[a-z0-9][a-z0-9._/:-]*?)(?::(?P<tag>[A-Za-z0-9._-]+))?"
    r"(?:@sha256:(?P<digest>[0-9a-f]{64}))?$"
)


def image_pin_problem(image: str) -> str | None:
    """Why `image` is not pinned to one version, or None if it is (the config checks this,
    and so does the policy pack, on what reaches Coolify)."""
    match = _IMAGE.match(image)
    if not match:
        return f"{image!r} is not a container image like postgres:16.4-alpine"
    tag = match.group("tag") or ""
    if not match.group("digest") and not re.search(r"\d+\.\d+|RELEASE\.", tag):
        return (
            f"{image!r} is not pinned: give an exact version tag (postgres:16.4-alpine, not "
            "postgres:16 or :latest) or a digest, so that an upgrade is a change of config"
        )
    return None


def image_name_and_tag(image: str) -> tuple[str, str]:
    """A pinned image as Coolify stores it: repository and tag, or for a digest the
    repository with `@sha256` and the digest's hex as the tag, which is what Coolify's own
    parser makes of `repo@sha256:<hex>` (app/Services/DockerImageParser.php:18-21,
    ApplicationsController.php:2206-2219 at v4.3.10; a tag holding `@` or `:` is refused,
    ValidationPatterns.php:146). A digest decides what runs, so a tag beside it is dropped:
    ghcr.io/acme/api:1.2@sha256:ab.. -> (ghcr.io/acme/api@sha256, ab..)."""
    match = _IMAGE.match(image)
    assert match, image  # a PinnedImage: checked by the config
    digest = match.group("digest")
    if digest:
        return f"{match.group('name')}@sha256", digest
    return match.group("name"), match.group("tag") or "latest"


def _pinned_image(value: str) -> str:
    problem = image_pin_problem(value)
    if problem is not None:
        raise config_error(problem)
    return value


PinnedImage = Annotated[str, AfterValidator(_pinned_image)]


DatabaseIdentifier = Annotated[str, _matching(
    r"[a-z_][a-z0-9_]{0,62}",
    "database identifier: up to 63 characters of a-z, 0-9 and '_', not starting with a digit",
)]  # fmt: skip
BucketName = Annotated[str, _matching(
    r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]",
    "bucket name: 3-63 characters of a-z, 0-9 and '-', starting and ending with a letter or "
    "digit",
)]  # fmt: skip
# Another service's bucket, read only: Supabase Storage allows capitals, '_' and '.' too.
SourceBucketName = Annotated[str, _matching(
    r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}",
    "source bucket name: up to 100 characters of letters, digits, '.', '_' and '-', starting "
    "with a letter or digit",
)]  # fmt: skip
