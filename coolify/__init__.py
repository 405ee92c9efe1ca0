"""Coolify as code: the API client and the Pulumi dynamic providers built on it."""
