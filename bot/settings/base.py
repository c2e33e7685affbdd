"""What every settings group shares: :class:`ConfigError`, the field helper the docs table
is built from, the one-line error wording and the number check every numeric setting gets."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from annotated_types import Ge, Le
from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PREFIX = "SECBOT_"


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the variable."""


def setting(
    name: str,
    default: Any,
    description: str,
    *,
    group: str,
    ge: float | None = None,
    le: float | None = None,
    secret: bool = False,
) -> Any:
    """A field read from the variable ``name`` (the docs table is built from these)."""
    return Field(
        default,
        validation_alias=name,
        description=description,
        ge=ge,
        le=le,
        repr=not secret,
        json_schema_extra={"env": name, "group": group, "secret": secret},
    )


class SettingsGroup(BaseSettings):
    """The base of every group of settings: frozen, built from the values it is given
    (field names or variable names), a wrong value raised as one :class:`ConfigError` line."""

    model_config = SettingsConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as e:
            raise ConfigError(one_line(e, type(self).model_fields)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings reads the environment and .env itself (an unreadable .env is one
        # line, not a skip) and passes every value in; a hand-built Settings reads nothing.
        return (init_settings,)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """A text number in range, with one wording for every numeric setting; float()
        takes "nan", "inf" and "1e999", and nan passes every comparison."""
        field = cls.model_fields[info.field_name or ""]
        if field.annotation not in (int, float) or not isinstance(value, str):
            return value
        whole = field.annotation is int
        low, high = bounds(field)
        number: float | None
        try:
            number = int(value.strip()) if whole else float(value.strip())
        except ValueError:
            number = None
        if number is None or not math.isfinite(number) or number < low or (
            high is not None and number > high
        ):
            kind = "a whole number" if whole else "a number"
            span = f"of at least {low:g}" if high is None else f"from {low:g} to {high:g}"
            raise ValueError(f"must be {kind} {span}, not {value!r}")
        return number


def env_name(field: FieldInfo) -> str:
    return str(field.validation_alias)


def bounds(field: FieldInfo) -> tuple[float, float | None]:
    low: float = 0
    high: float | None = None
    for item in field.metadata:
        if isinstance(item, Ge):
            low = float(item.ge)  # type: ignore[arg-type]
        if isinstance(item, Le):
            high = float(item.le)  # type: ignore[arg-type]
    return low, high


def one_line(error: ValidationError, fields: Mapping[str, FieldInfo]) -> str:
    """The first problem, as ``NAME <what is wrong>``."""
    problem = error.errors()[0]
    field = problem["loc"][0] if problem["loc"] else ""
    info = fields.get(str(field))
    name = env_name(info) if info is not None else str(field)
    if problem["type"] == "value_error":
        return f"{name} {problem['ctx']['error']}"
    if problem["type"] == "bool_parsing":
        return f"{name} must be true or false, not {problem['input']!r}"
    return f"{name} {problem['msg'][:1].lower()}{problem['msg'][1:]}, not {problem['input']!r}"


def choice(value: Any, options: tuple[str, ...]) -> Any:
    """One of ``options``, in any case."""
    if not isinstance(value, str):
        return value
    if value.lower() not in options:
        listed = f"{', '.join(options[:-1])} or {options[-1]}"
        raise ValueError(f"must be {listed}, not {value.lower()!r}")
    return value.lower()


def http_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError(f"must be an http(s) URL, not {value!r}")
    return value


def comma_list(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def id_list(value: Any, valid: Callable[[str], object], example: str) -> Any:
    """A comma-separated allow-list; a value that can't be an id stops start-up."""
    if not isinstance(value, str):
        return value
    ids = comma_list(value)
    for item in ids:
        if not valid(item):
            raise ValueError(
                f"must be ids separated by commas, like {example}; {item[:60]!r} is not one"
            )
    return frozenset(ids)


def is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36
