"""The stack config: pydantic models, validated once by `load_stack_config` at start.

The models live by concern (servers, topology, dns, services, apps, references, backups,
imports, budgets; `stack` joins them); components, the offline tools and the tests import them
from here. render/, which config.secrets itself uses, imports from the concern's module.
"""

from config.apps import AppConfig, EnvValue, GeneratedValue, GitSource, RefValue
from config.backups import BackupsConfig, UptimeKumaConfig
from config.base import SecretValue
from config.dns import DnsConfig, ServedHostname
from config.errors import ConfigError
from config.imports import SUPABASE_SCHEMAS, BucketsImportConfig, PostgresImportConfig
from config.load import load_stack_config, parse_stack_config
from config.servers import LoadBalancerConfig, NetworkConfig, ServerConfig, SshConfig
from config.services import (
    DATABASE_SERVICES,
    CoolifyConfig,
    MariadbConfig,
    MinioConfig,
    PgBouncerConfig,
    PostgresConfig,
    RedisConfig,
    ServicesConfig,
    VolumeConfig,
)
from config.stack import StackConfig

__all__ = [
    "DATABASE_SERVICES",
    "SUPABASE_SCHEMAS",
    "AppConfig",
    "BackupsConfig",
    "BucketsImportConfig",
    "ConfigError",
    "CoolifyConfig",
    "DnsConfig",
    "EnvValue",
    "GeneratedValue",
    "GitSource",
    "LoadBalancerConfig",
    "MariadbConfig",
    "MinioConfig",
    "NetworkConfig",
    "PgBouncerConfig",
    "PostgresConfig",
    "PostgresImportConfig",
    "RedisConfig",
    "RefValue",
    "SecretValue",
    "ServedHostname",
    "ServerConfig",
    "ServicesConfig",
    "SshConfig",
    "StackConfig",
    "UptimeKumaConfig",
    "VolumeConfig",
    "load_stack_config",
    "parse_stack_config",
]
