"""The models' common base, and the small values several of them hold."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from config.fields import HostName


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=False
    )


def _bare_string_or_object(schema: dict[str, Any]) -> None:
    """The JSON schema of a HostEntry (for editors) takes the bare string `_bare_string` reads."""
    as_object = {key: schema.pop(key) for key in ("type", "properties", "required")}
    as_object["additionalProperties"] = schema.pop("additionalProperties")
    schema["anyOf"] = [as_object["properties"]["host"], as_object]


class HostEntry(Model):
    """A hostname the stack serves. Written as a bare string ("crm") or as an object when the
    proxy setting differs from its owner's default ({host: crm, proxied: false})."""

    model_config = ConfigDict(json_schema_extra=_bare_string_or_object)

    host: HostName = Field(
        description='hostname relative to the domain ("crm"), "@" or a full name'
    )
    proxied: bool | None = Field(
        None,
        description="route through Cloudflare's proxy; default depends on the owner",
    )

    @model_validator(mode="before")
    @classmethod
    def _bare_string(cls, data: Any) -> Any:
        return {"host": data} if isinstance(data, str) else data


class SecretValue(Model):
    """A secret the stack cannot generate, from the secret config bag `secrets`."""

    secret: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", description="its name in `secrets`")
