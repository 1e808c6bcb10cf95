"""JSON values in the one form every database gives them back in.

PostgreSQL's JSONB keeps a number as `numeric`, written out in plain digits: a float that Python
writes with an exponent (every float from 1e16 up, all of them whole numbers) comes back as an
integer, and -0.0 as 0.0; it also forgets the order of keys. A value that is hashed (audit events)
or handed to the engine (whose state is compared on replay) must already be in that form, or the
hash chain and replay would report a change that nobody made."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def normal_float(value: float) -> int | float:
    """A float as JSONB returns it: the same decimal digits, an int when written with an exponent."""
    if value == 0:
        return 0.0  # numeric has no negative zero
    text = repr(value)
    if "e+" in text:
        return int(Decimal(text))
    return value


def normalise(value: Any, *, sort_keys: bool = False) -> Any:
    """`value` (decoded JSON) with its numbers as every database returns them; with `sort_keys`,
    every object's keys in sorted order too."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return normal_float(value)
    if isinstance(value, Mapping):
        keys = sorted(value, key=str) if sort_keys else list(value)
        return {k: normalise(value[k], sort_keys=sort_keys) for k in keys}
    if isinstance(value, list | tuple):
        return [normalise(v, sort_keys=sort_keys) for v in value]
    return value
