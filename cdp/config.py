"""The one loader of the YAML files under `config/`: read, validate with pydantic, and on any
problem raise :class:`ConfigError` whose message names the file and the field path.

Every domain (`ingestion`, `identity`, `data_quality`, `ml`, `activation`, the consent
vocabulary of the core) loads its file through :func:`load_yaml_model`, so that a user sees the
same kind of message whichever file they got wrong:

    config/syncs.yaml: syncs['crm'].destination.options.read_timeout: Input should be ...
    config/sources.yaml: sources.shop.tables.orders.primary_key: Field required
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A configuration file that is missing, unreadable or invalid (message: file and field)."""


def read_yaml(path: Path) -> dict[str, Any]:
    """The top-level mapping of a YAML file; an empty file is an empty mapping."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: configuration file not found") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(raw).__name__}")
    return raw


def field_path(loc: Iterable[Any], data: Any = None, named_lists: Iterable[str] = ()) -> str:
    """`a.b.0.c` from a pydantic error location.

    A position in one of the `named_lists` (top-level lists of items with a `name`, such as
    `syncs` and `segments`) is written with the item's name, `syncs['crm'].mode`, because a
    user finds an item by its name, not by counting.
    """
    parts = [str(p) for p in loc]
    loc = list(loc)
    if len(loc) >= 2 and loc[0] in set(named_lists) and isinstance(loc[1], int):
        try:
            name = data[loc[0]][loc[1]].get("name")
        except (KeyError, IndexError, TypeError, AttributeError):
            name = None
        if name is not None:
            return f"{loc[0]}[{name!r}]" + "".join(f".{p}" for p in parts[2:])
    return ".".join(parts) or "(top level)"


def format_validation_error(
    path: Path | str,
    exc: ValidationError,
    *,
    prefix: str = "",
    data: Any = None,
    named_lists: Iterable[str] = (),
) -> str:
    """One line per problem: `<file>: <field path>: <message>`."""
    lines = []
    for err in exc.errors():
        where = field_path(err["loc"], data, named_lists)
        if prefix:
            where = prefix if where == "(top level)" else f"{prefix}.{where}"
        lines.append(f"{path}: {where}: {err['msg']}")
    return "\n".join(lines)


def validate_model(
    data: Any,
    model: type[M],
    path: Path | str = "<memory>",
    *,
    prefix: str = "",
    named_lists: Iterable[str] = (),
) -> M:
    """`model` validated from already-read data; errors name `path` and the field."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        where = f"{prefix}: " if prefix else "top level "
        raise ConfigError(f"{path}: {where}must be a mapping, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        message = format_validation_error(
            path, exc, prefix=prefix, data=data, named_lists=named_lists
        )
        raise ConfigError(message) from None


def load_yaml_model(path: Path | str, model: type[M], *, named_lists: Iterable[str] = ()) -> M:
    """Read `path` and validate it as `model`; any problem raises :class:`ConfigError`."""
    path = Path(path)
    return validate_model(read_yaml(path), model, path, named_lists=named_lists)
