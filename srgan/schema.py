"""The shape of every JSON value the project reads, checked before any of it is used.

The weights card, settings.json, best.json, compare_state.json and TF_CONFIG each go
through `check` with the shape their reader expects, so a value of the wrong shape
ends in one line naming its source and the field, never in a KeyError or TypeError
deep inside the code that used it.

A shape is written as Python types: bool, int, float (a whole number is a number
too), str, None, X | Y, list[X], dict[str, X], Literal[...], Annotated[X, Matches(...)]
for a string of a given form, Annotated[X, Minimum(...)] for a number in range, a TypedDict (an object: its NotRequired fields may be
missing) or a dataclass (an object: a field with a default may be missing). Fields a
shape does not name are allowed and left unread: a newer version may have added them.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import types
import typing
from pathlib import Path
from typing import Any

from srgan.errors import UserError
from srgan.files import read_json


@dataclasses.dataclass(frozen=True)
class Matches:
    """Annotated[str, Matches(pattern, meaning)]: a string that `pattern` matches whole;
    `meaning` names the form in a message ("host:port")."""

    pattern: str
    meaning: str


@dataclasses.dataclass(frozen=True)
class Minimum:
    """Annotated[int | float, Minimum(low)]: a number of at least `low`; with `exclusive`,
    above it."""

    low: float
    exclusive: bool = False

    def holds(self, value: float) -> bool:
        return value > self.low if self.exclusive else value >= self.low

    @property
    def meaning(self) -> str:
        return f"a number {'above' if self.exclusive else 'of at least'} {self.low:g}"


def check(value: object, shape: object, source: str, remedy: str) -> Any:
    """`value`, where it has `shape`; else a UserError naming `source`, the first field
    that does not fit and `remedy` (what to do)."""
    problem = _problem(value, shape, "")
    if problem is not None:
        raise UserError(f"{source}{problem}; {remedy}")
    return value


def load(path: Path, shape: object, remedy: str) -> Any:
    """The JSON value in the file `path`, checked against `shape`."""
    return check(read_json(path, remedy), shape, str(path), remedy)


def _at(where: str) -> str:
    return f": {where}" if where else ""


def _shown(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_not(value: object, where: str, expected: str) -> str:
    return f"{_at(where)} is {_shown(value)}, not {expected}"


def _child(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _object_fields(shape: type) -> tuple[dict[str, object], set[str]] | None:
    """(field -> shape, the required fields) of a TypedDict or dataclass shape, or None."""
    if typing.is_typeddict(shape):
        # include_extras keeps Annotated's rules, and with them NotRequired's wrapper.
        hints = typing.get_type_hints(shape, include_extras=True)
        # Read from the hints, not __required_keys__, which misses a NotRequired written
        # as a string (a module with `from __future__ import annotations`).
        required = {name for name, hint in hints.items()
                    if typing.get_origin(hint) is not typing.NotRequired
                    and (typing.get_origin(hint) is typing.Required
                         or name in shape.__required_keys__)}
        return {name: _required_unwrapped(hint) for name, hint in hints.items()}, required
    if dataclasses.is_dataclass(shape):
        hints = typing.get_type_hints(shape, include_extras=True)
        required = {field.name for field in dataclasses.fields(shape)
                    if field.default is dataclasses.MISSING
                    and field.default_factory is dataclasses.MISSING}
        return {field.name: hints[field.name] for field in dataclasses.fields(shape)}, required
    return None


def _required_unwrapped(shape: object) -> object:
    while typing.get_origin(shape) in (typing.NotRequired, typing.Required):
        shape = typing.get_args(shape)[0]
    return shape


def _problem(value: object, shape: object, where: str) -> str | None:
    """What is wrong with `value` at `where` against `shape`, or None where it fits."""
    origin, args = typing.get_origin(shape), typing.get_args(shape)
    if origin in (typing.Union, types.UnionType):
        if any(_problem(value, option, where) is None for option in args):
            return None
        return _is_not(value, where, " or ".join(_describe(option) for option in args))
    if origin is typing.Annotated:
        problem = _problem(value, args[0], where)
        if problem is not None:
            return problem
        for rule in args[1:]:
            if isinstance(rule, Matches) and not re.fullmatch(rule.pattern, value):
                return _is_not(value, where, rule.meaning)
            if isinstance(rule, Minimum) and value is not None and not rule.holds(value):
                return _is_not(value, where, rule.meaning)
        return None
    if origin is typing.Literal:
        if any(type(value) is type(choice) and value == choice for choice in args):
            return None
        return _is_not(value, where, _describe(shape))
    if origin is list:
        if not isinstance(value, list):
            return _is_not(value, where, _describe(shape))
        for index, item in enumerate(value):
            problem = _problem(item, args[0], f"{where}[{index}]")
            if problem is not None:
                return problem
        return None
    if origin is dict:
        if not isinstance(value, dict):
            return _is_not(value, where, _describe(shape))
        for key, item in value.items():
            problem = _problem(item, args[1], _child(where, key))
            if problem is not None:
                return problem
        return None
    fields = _object_fields(shape)
    if fields is not None:
        if not isinstance(value, dict):
            return _is_not(value, where, "an object")
        shapes, required = fields
        for name, field_shape in shapes.items():
            if name not in value:
                if name in required:
                    return f"{_at(_child(where, name))} is missing"
                continue
            problem = _problem(value[name], field_shape, _child(where, name))
            if problem is not None:
                return problem
        return None
    return None if _fits_scalar(value, shape) else _is_not(value, where, _describe(shape))


def _fits_scalar(value: object, shape: object) -> bool:
    if shape is None or shape is type(None):
        return value is None
    if isinstance(value, bool):  # JSON's true and false are no numbers
        return shape is bool
    if shape is float:
        return isinstance(value, (int, float)) and math.isfinite(value)
    if shape in (bool, int, str):
        return isinstance(value, shape)
    raise TypeError(f"no JSON shape: {shape!r}")


_NAMES = {bool: "true or false", int: "a whole number", float: "a number", str: "a string",
          type(None): "null"}


def _describe(shape: object) -> str:
    """The shape in words, as a message names what was expected."""
    origin, args = typing.get_origin(shape), typing.get_args(shape)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(option) for option in args)
    if origin is typing.Annotated:
        rules = [rule.meaning for rule in args[1:] if isinstance(rule, (Matches, Minimum))]
        return rules[0] if rules else _describe(args[0])
    if origin is typing.Literal:
        return "one of " + ", ".join(json.dumps(choice) for choice in args)
    if origin is list:
        return "a list"
    if origin is dict or _object_fields(shape) is not None:
        return "an object"
    return _NAMES.get(type(None) if shape is None else shape, repr(shape))

