"""The partner registry: one YAML file per service or identity source."""

from .registry import Registry, load_registry
from .schema import Service, Source

__all__ = ["Registry", "Service", "Source", "load_registry"]
