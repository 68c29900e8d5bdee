"""The official Bot API reference (``api.json``) as an index, and request validation against it."""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sandbox.models import UploadedFile

ARRAY_PREFIX = "Array of "
ATTACH_PREFIX = "attach://"
_DISCRIMINATOR_FIELDS = ("type", "status", "source")
_DISCRIMINATOR_RE = re.compile(r'(?:must be|always) "?([a-z_]+)"?')
_INTEGER_RE = re.compile(r"[+-]?\d+")
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})

# Parameters Telegram still honours although the reference no longer lists them; aiogram sends
# them when the corresponding bot defaults are configured.
LEGACY_PARAMETERS = frozenset(
    {"disable_web_page_preview", "reply_to_message_id", "allow_sending_without_reply"}
)

# Fields the client libraries in use (aiogram 3.31) require although this api.json lacks them:
# accepted in requests and returned in results, so strict clients parse what they get.
_WELCOME = {"name": "can_send_welcome_messages", "types": ["Boolean"], "required": False}
TYPE_EXTENSIONS: dict[str, list[dict[str, Any]]] = {
    "ChatAdministratorRights": [_WELCOME],
    "ChatMemberAdministrator": [_WELCOME],
}
METHOD_EXTENSIONS: dict[str, list[dict[str, Any]]] = {"promoteChatMember": [_WELCOME]}

# Telegram's own wording for the most common missing parameters.
_MISSING_MESSAGES = {
    "chat_id": "chat_id is empty",
    "text": "message text is empty",
    "message_id": "message_id is empty",
    "callback_query_id": "query_id is empty",
    "user_id": "user_id is empty",
}


@dataclass(frozen=True)
class FieldSpec:
    """One parameter of a method or one field of an object type."""

    name: str
    types: tuple[str, ...]
    required: bool
    description: str = ""


@dataclass(frozen=True)
class MethodSpec:
    """A Bot API method."""

    name: str
    fields: Mapping[str, FieldSpec]
    returns: tuple[str, ...]


@dataclass(frozen=True)
class TypeSpec:
    """A Bot API object type, or a union of them (``subtypes``)."""

    name: str
    fields: Mapping[str, FieldSpec]
    subtypes: tuple[str, ...]
    discriminator: str | None
    """For a union: the field whose constant value names the subtype."""
    variants: Mapping[str, str]
    """For a union with a discriminator: discriminator value -> subtype name."""


class SpecError(Exception):
    """A request does not conform to the reference; ``description`` is Telegram-style."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class _Invalid(Exception):
    """A value deep inside a parameter is wrong; ``path`` locates it."""

    def __init__(self, path: str, message: str, *, shallow: bool = False) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.shallow = shallow


ObjectHook = Callable[[dict[str, Any], str], None]
"""Extra rules for an object type: called with the validated object and its path.

Hooks raise :class:`SpecError` with the complete Telegram-style description.
"""


@dataclass
class _Context:
    files: Mapping[str, UploadedFile]
    hooks: Mapping[str, ObjectHook]


class ApiSpec:
    """An index of methods and types built once from ``api.json``."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.version: str = str(data.get("version", ""))
        self.methods: dict[str, MethodSpec] = {}
        self._methods_lower: dict[str, MethodSpec] = {}
        for name, raw in data["methods"].items():
            method = MethodSpec(
                name=name,
                fields=_fields([*raw.get("fields", []), *METHOD_EXTENSIONS.get(name, [])]),
                returns=tuple(raw.get("returns", [])),
            )
            self.methods[name] = method
            self._methods_lower[name.lower()] = method
        raw_types: Mapping[str, Any] = data["types"]
        self.types: dict[str, TypeSpec] = {}
        for name, raw in raw_types.items():
            subtypes = tuple(raw.get("subtypes", []))
            discriminator, variants = _discriminate(subtypes, raw_types)
            self.types[name] = TypeSpec(
                name=name,
                fields=_fields([*raw.get("fields", []), *TYPE_EXTENSIONS.get(name, [])]),
                subtypes=subtypes,
                discriminator=discriminator,
                variants=variants,
            )

    @classmethod
    @functools.cache
    def load(cls) -> ApiSpec:
        """The reference shipped with the package, parsed once per process."""
        text = resources.files("sandbox").joinpath("api.json").read_text(encoding="utf-8")
        return cls(json.loads(text))

    def find_method(self, name: str) -> MethodSpec | None:
        """Look a method up the way Telegram does: case-insensitively."""
        return self._methods_lower.get(name.lower())

    # -- requests -------------------------------------------------------------------------

    def validate_params(
        self,
        method: MethodSpec,
        params: Mapping[str, Any],
        files: Mapping[str, UploadedFile],
        hooks: Mapping[str, ObjectHook] | None = None,
    ) -> dict[str, Any]:
        """Check and coerce a request's parameters; raise :class:`SpecError` on any fault.

        Top-level string values come from query strings and forms, so they are coerced
        ("123" is an Integer, JSON text is an object); values nested inside JSON must already
        have their proper JSON types. Files come either as parts named after a parameter or as
        ``attach://<part>`` references.
        """
        ctx = _Context(files=files, hooks=hooks or {})
        values: dict[str, Any] = {}
        for name in params:
            if name not in method.fields and name not in LEGACY_PARAMETERS:
                raise SpecError(f'Bad Request: unknown parameter "{name}"')
        for name in files:
            if name not in method.fields and not _is_referenced(name, params):
                raise SpecError(f'Bad Request: unknown parameter "{name}" (an unreferenced file)')
        for spec in method.fields.values():
            if spec.name in params:
                raw = params[spec.name]
            elif spec.name in files:
                raw = files[spec.name]
            else:
                if spec.required:
                    message = _MISSING_MESSAGES.get(
                        spec.name, f'parameter "{spec.name}" is required'
                    )
                    raise SpecError(f"Bad Request: {message}")
                continue
            try:
                values[spec.name] = self._check_union(raw, spec.types, spec.name, ctx, top=True)
            except _Invalid as exc:
                raise SpecError(_describe(spec, exc)) from None
        for name in LEGACY_PARAMETERS:
            if name in params:
                values[name] = params[name]
        return values

    def validate_value(self, value: Any, types: Iterable[str], path: str = "value") -> Any:
        """Check an already-decoded JSON value against one of ``types`` (used for results)."""
        ctx = _Context(files={}, hooks={})
        try:
            return self._check_union(value, tuple(types), path, ctx, top=False)
        except _Invalid as exc:
            raise SpecError(f"{exc.path}: {exc.message}") from None

    # -- defaults for results ------------------------------------------------------------

    def skeleton(self, type_name: str, **overrides: Any) -> dict[str, Any]:
        """An object of ``type_name`` with every required field at a neutral value.

        Results built this way stay parseable by strict clients when the reference gains
        required fields.
        """
        spec = self.types[type_name]
        data: dict[str, Any] = {}
        for field in spec.fields.values():
            if field.required and field.name not in overrides:
                data[field.name] = self._neutral(field.types[0])
        data.update(overrides)
        return data

    def fields_of(self, type_name: str) -> Mapping[str, FieldSpec]:
        """The fields of an object type."""
        return self.types[type_name].fields

    def _neutral(self, type_expr: str) -> Any:
        if type_expr.startswith(ARRAY_PREFIX):
            return []
        neutral: dict[str, Any] = {"Integer": 0, "Float": 0.0, "Boolean": False, "String": ""}
        if type_expr in neutral:
            return neutral[type_expr]
        spec = self.types[type_expr]
        if spec.subtypes:
            return self.skeleton(spec.subtypes[0])
        return self.skeleton(type_expr)

    # -- checking ------------------------------------------------------------------------

    def _check_union(
        self, value: Any, types: tuple[str, ...], path: str, ctx: _Context, *, top: bool
    ) -> Any:
        if len(types) == 1:
            return self._check(value, types[0], path, ctx, top=top)
        failures: list[_Invalid] = []
        for type_expr in _ordered(types):
            try:
                return self._check(value, type_expr, path, ctx, top=top)
            except _Invalid as exc:
                failures.append(exc)
        deep = [f for f in failures if f.path != path or not f.shallow]
        if deep:
            # The alternative that got furthest into the value explains the fault best.
            raise max(deep, key=lambda f: len(f.path))
        raise _Invalid(path, f"must be of type {' or '.join(types)}", shallow=True)

    def _check(self, value: Any, type_expr: str, path: str, ctx: _Context, *, top: bool) -> Any:
        if type_expr.startswith(ARRAY_PREFIX):
            if top and isinstance(value, str):
                value = _decode_json(value, path)
            if not isinstance(value, list):
                raise _Invalid(path, f"must be of type {type_expr}", shallow=True)
            inner = type_expr[len(ARRAY_PREFIX) :]
            return [
                self._check_union(item, (inner,), f"{path}[{index}]", ctx, top=False)
                for index, item in enumerate(value)
            ]
        checker = _PRIMITIVES.get(type_expr)
        if checker is not None:
            return checker(value, path, top)
        if type_expr == "InputFile":
            return _check_file(value, path, ctx)
        spec = self.types.get(type_expr)
        if spec is None:
            raise _Invalid(path, f"has a type unknown to the reference: {type_expr}")
        if top and isinstance(value, str):
            value = _decode_json(value, path)
        if spec.subtypes:
            return self._check_subtypes(value, spec, path, ctx)
        if not isinstance(value, dict):
            raise _Invalid(path, f"must be a JSON object of type {type_expr}", shallow=True)
        checked: dict[str, Any] = {}
        for key in value:
            if key not in spec.fields:
                raise _Invalid(f"{path}.{key}", f"is not a field of {type_expr}")
        for field in spec.fields.values():
            if field.name not in value:
                if field.required:
                    raise _Invalid(f"{path}.{field.name}", f"is required in {type_expr}")
                continue
            checked[field.name] = self._check_union(
                value[field.name], field.types, f"{path}.{field.name}", ctx, top=False
            )
        hook = ctx.hooks.get(type_expr)
        if hook is not None:
            hook(checked, path)
        return checked

    def _check_subtypes(self, value: Any, spec: TypeSpec, path: str, ctx: _Context) -> Any:
        if spec.discriminator is None:
            return self._check_union(value, spec.subtypes, path, ctx, top=False)
        if not isinstance(value, dict):
            raise _Invalid(path, f"must be a JSON object of type {spec.name}", shallow=True)
        tag = value.get(spec.discriminator)
        if tag is None:
            raise _Invalid(f"{path}.{spec.discriminator}", f"is required in {spec.name}")
        subtype = spec.variants.get(tag) if isinstance(tag, str) else None
        if subtype is None:
            known = ", ".join(sorted(spec.variants))
            raise _Invalid(
                f"{path}.{spec.discriminator}",
                f"has an unsupported value {tag!r} for {spec.name} (expected one of {known})",
            )
        return self._check(value, subtype, path, ctx, top=False)


def _fields(raw: Iterable[Mapping[str, Any]]) -> dict[str, FieldSpec]:
    return {
        f["name"]: FieldSpec(
            name=f["name"],
            types=tuple(f["types"]),
            required=bool(f["required"]),
            description=str(f.get("description", "")),
        )
        for f in raw
    }


def _discriminate(
    subtypes: tuple[str, ...], raw_types: Mapping[str, Any]
) -> tuple[str | None, dict[str, str]]:
    """Find the field whose constant value tells a union's subtypes apart."""
    if not subtypes or any(s not in raw_types for s in subtypes):
        return None, {}
    for candidate in _DISCRIMINATOR_FIELDS:
        variants: dict[str, str] = {}
        for subtype in subtypes:
            described = [
                f["description"]
                for f in raw_types[subtype].get("fields", [])
                if f["name"] == candidate
            ]
            match = _DISCRIMINATOR_RE.search(described[0]) if described else None
            if match is None:
                break
            variants[match.group(1)] = subtype
        else:
            if len(variants) == len(subtypes):
                return candidate, variants
    return None, {}


def _ordered(types: tuple[str, ...]) -> list[str]:
    # A form value "123" for "Integer or String" is the integer; "attach://x" for
    # "InputFile or String" is the file. So the plain String alternative is tried last.
    return sorted(types, key=lambda t: t == "String")


def _is_referenced(part_name: str, params: Mapping[str, Any]) -> bool:
    needle = ATTACH_PREFIX + part_name
    return any(isinstance(v, str) and needle in v for v in params.values())


def _decode_json(value: str, path: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        raise _Invalid(path, "is not valid JSON", shallow=True) from None


def _check_integer(value: Any, path: str, top: bool) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if top and isinstance(value, str) and _INTEGER_RE.fullmatch(value):
        return int(value)
    raise _Invalid(path, "must be of type Integer", shallow=True)


def _check_float(value: Any, path: str, top: bool) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if top and isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if math.isfinite(number):
            return number
    raise _Invalid(path, "must be of type Float", shallow=True)


def _check_boolean(value: Any, path: str, top: bool) -> bool:
    if isinstance(value, bool):
        return value
    if top and isinstance(value, str):
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise _Invalid(path, "must be of type Boolean", shallow=True)


def _check_string(value: Any, path: str, top: bool) -> str:
    if isinstance(value, str):
        return value
    raise _Invalid(path, "must be of type String", shallow=True)


_PRIMITIVES: dict[str, Callable[[Any, str, bool], Any]] = {
    "Integer": _check_integer,
    "Float": _check_float,
    "Boolean": _check_boolean,
    "String": _check_string,
}


def _check_file(value: Any, path: str, ctx: _Context) -> UploadedFile:
    if isinstance(value, UploadedFile):
        return value
    if isinstance(value, str) and value.startswith(ATTACH_PREFIX):
        part = ctx.files.get(value[len(ATTACH_PREFIX) :])
        if part is None:
            raise _Invalid(path, f"refers to a missing multipart file {value!r}")
        return part
    raise _Invalid(path, "must be an uploaded file", shallow=True)


def _describe(spec: FieldSpec, exc: _Invalid) -> str:
    if exc.path == spec.name:
        return f'Bad Request: parameter "{spec.name}" {exc.message}'
    return f'Bad Request: can\'t parse {spec.name}: field "{exc.path}" {exc.message}'
