"""The stack config: pydantic models, validated once by `load_stack_config` at start."""

from config.errors import ConfigError
from config.load import load_stack_config, parse_stack_config
from config.model import ServedHostname, StackConfig

__all__ = [
    "ConfigError",
    "ServedHostname",
    "StackConfig",
    "load_stack_config",
    "parse_stack_config",
]
