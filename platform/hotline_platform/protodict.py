"""One generic mapping between protobuf messages and plain Python values (dicts, dataclasses).

Field names agree on both sides, so no field is copied by hand:

* `to_message(value, MessageClass)`: a mapping or dataclass (nested ones too) -> message. `None`
  leaves a field unset (an `optional` figure that is undefined); a `datetime` (naive = UTC) or
  an ISO-8601 string fills a `google.protobuf.Timestamp`; an enum field takes its value name
  (`CHANNEL_VOICE`), the name without the enum's prefix in any case (`voice`, `VOICE`; the
  prefix is the enum's name in SCREAMING_SNAKE_CASE, the proto style this contract follows),
  a `StrEnum` member of such a name, the number, or "" for the zero value (UNSPECIFIED); a
  `map<K, V>` field takes a mapping. A
  key the message lacks is an error (a report field added on one side only fails at once,
  not silently).
* `to_dict(message)`: the reverse, in field declaration order, with Python types (int64 as
  int, unlike protobuf-JSON's strings): an unset `optional` field or message field is `None`,
  a Timestamp is ISO-8601 UTC ending in `Z` (as `datetime.isoformat` writes it), an enum is
  its name without the prefix, in lower case, a map field a dict.

`to_dict(to_message(d, M)) == d` for a dict `d` already in that form (what the KPI report is).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

M = TypeVar("M", bound=Message)

_TIMESTAMP = Timestamp.DESCRIPTOR.full_name


def to_message(value: Any, cls: type[M]) -> M:
    """A new `cls` message filled from `value` (mapping or dataclass instance)."""
    message = cls()
    _fill(message, value, cls.DESCRIPTOR.full_name)
    return message


def to_dict(message: Message) -> dict[str, Any]:
    """The message as a dict of plain Python values (see the module docstring)."""
    return {
        field.name: _field_value(message, field) for field in message.DESCRIPTOR.fields
    }


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC ending in `Z` (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def timestamp(moment: datetime) -> Timestamp:
    """A Timestamp of `moment` (naive = UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ts = Timestamp()
    ts.FromDatetime(moment.astimezone(UTC))
    return ts


def to_datetime(ts: Timestamp) -> datetime:
    """An aware UTC datetime of a Timestamp (microsecond resolution)."""
    return ts.ToDatetime(tzinfo=UTC)


def enum_prefix(enum: EnumDescriptor) -> str:
    """`ContactOutcome` -> `CONTACT_OUTCOME_` (the prefix of the enum's value names)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", enum.name).upper() + "_"


# --- value -> message -------------------------------------------------------------------------


def _items(value: Any, where: str) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    raise TypeError(f"{where}: expected a mapping or a dataclass, got {type(value).__name__}")


def _fill(message: Message, value: Any, where: str) -> None:
    descriptor: Descriptor = message.DESCRIPTOR
    if descriptor.full_name == _TIMESTAMP:
        _set_timestamp(message, value, where)  # type: ignore[arg-type]
        return
    items = _items(value, where)
    fields = descriptor.fields_by_name
    unknown = sorted(set(items) - set(fields))
    if unknown:
        raise ValueError(f"{where}: {descriptor.full_name} has no field {', '.join(unknown)}")
    for name, item in items.items():
        if item is None:
            continue
        field = fields[name]
        path = f"{where}.{name}"
        if _is_map(field):
            if not isinstance(item, Mapping):
                raise TypeError(f"{path}: expected a mapping")
            _fill_map(getattr(message, name), field, item, path)
        elif field.is_repeated:
            if isinstance(item, (str, bytes, Mapping)):
                raise TypeError(f"{path}: expected a sequence")
            target = getattr(message, name)
            for i, element in enumerate(item):
                if field.message_type is not None:
                    _fill(target.add(), element, f"{path}[{i}]")
                else:
                    target.append(_scalar(field, element, f"{path}[{i}]"))
        elif field.message_type is not None:
            sub = getattr(message, name)
            sub.SetInParent()
            _fill(sub, item, path)
        else:
            try:
                setattr(message, name, _scalar(field, item, path))
            except TypeError as exc:
                raise TypeError(f"{path}: {exc}") from exc


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _fill_map(target: Any, field: FieldDescriptor, items: Mapping[Any, Any], where: str) -> None:
    value_field = field.message_type.fields_by_name["value"]
    for key, item in items.items():
        if value_field.message_type is not None:
            _fill(target[key], item, f"{where}[{key!r}]")
        else:
            target[key] = _scalar(value_field, item, f"{where}[{key!r}]")


def _set_timestamp(ts: Timestamp, value: Any, where: str) -> None:
    if isinstance(value, datetime):
        ts.CopyFrom(timestamp(value))
    elif isinstance(value, str):
        ts.FromJsonString(value)
    elif isinstance(value, Timestamp):
        ts.CopyFrom(value)
    else:
        raise TypeError(f"{where}: expected a datetime or an ISO-8601 string for a Timestamp")


def _scalar(field: FieldDescriptor, value: Any, where: str) -> Any:
    enum = field.enum_type
    if enum is None:
        return value
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if value == "":
        return 0  # <PREFIX>_UNSPECIFIED: nothing known
    if isinstance(value, str):
        names = enum.values_by_name
        for candidate in (value, enum_prefix(enum) + value.upper()):
            if candidate in names:
                return names[candidate].number
    raise ValueError(f"{where}: {value!r} is not a value of {enum.full_name}")


# --- message -> dict --------------------------------------------------------------------------


def _field_value(message: Message, field: FieldDescriptor) -> Any:
    value = getattr(message, field.name)
    if _is_map(field):
        value_field = field.message_type.fields_by_name["value"]
        return {k: _plain(value_field, v) for k, v in value.items()}
    if field.is_repeated:
        return [_plain(field, v) for v in value]
    if field.has_presence and not message.HasField(field.name):
        return None
    return _plain(field, value)


def _plain(field: FieldDescriptor, value: Any) -> Any:
    if field.message_type is not None:
        if field.message_type.full_name == _TIMESTAMP:
            return iso_utc(to_datetime(value))
        return to_dict(value)
    enum = field.enum_type
    if enum is not None:
        known = enum.values_by_number.get(value)
        if known is None:
            return int(value)
        name = known.name
        prefix = enum_prefix(enum)
        return (name[len(prefix):] if name.startswith(prefix) else name).lower()
    return value
