"""Destination registry: `type` in config/syncs.yaml -> implementation class."""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from activation.destinations.base import (
    BatchRejected,
    BatchResult,
    Destination,
    DestinationConfigError,
    RateLimited,
    TransientError,
)


class Sync(Protocol):
    """What the registry reads of a sync (activation.config.Sync). A protocol, so the registry
    does not import the config that validates destination options against it."""

    name: str
    destination: Any


_REGISTRY = {
    "hubspot": ("activation.destinations.hubspot", "HubSpotContacts"),
    "klaviyo": ("activation.destinations.klaviyo", "KlaviyoProfiles"),
    "webhook": ("activation.destinations.webhook", "Webhook"),
    "sftp": ("activation.destinations.sftp", "SftpCsv"),
    "sql_table": ("activation.destinations.sql_table", "SqlTable"),
    "audience_file": ("activation.destinations.audience", "AudienceFile"),
}


def destination_class(type_: str) -> type[Destination]:
    try:
        module, name = _REGISTRY[type_]
    except KeyError:
        raise ValueError(f"unknown destination type {type_!r}") from None
    return getattr(importlib.import_module(module), name)


def build_destination(sync: Sync, run_id: str) -> Destination:
    cls = destination_class(sync.destination.type)
    return cls(sync.destination.options, sync_name=sync.name, run_id=run_id)


__all__ = [
    "BatchRejected",
    "BatchResult",
    "Destination",
    "DestinationConfigError",
    "RateLimited",
    "TransientError",
    "build_destination",
    "destination_class",
]
