"""Event kinds are declared by the app that owns them, so a typo is an error, not a new kind."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventKind:
    name: str
    description: str


_KINDS: dict[str, EventKind] = {}


def define_event(name: str, description: str) -> EventKind:
    """Declare an event kind such as ``customer.bound`` (``<domain>.<past-tense verb>``)."""
    domain, dot, verb = name.partition(".")
    if not dot or not domain or not verb or name != name.lower():
        raise ValueError(f"event kind {name!r} must look like 'domain.verb' in lower case")
    existing = _KINDS.get(name)
    if existing and existing.description != description:
        raise ValueError(f"event kind {name!r} declared twice with different descriptions")
    kind = EventKind(name, description)
    _KINDS[name] = kind
    return kind


def get_event_kind(name: str) -> EventKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"unknown event kind {name!r}; declare it with define_event()") from None


def all_event_kinds() -> list[EventKind]:
    return sorted(_KINDS.values(), key=lambda kind: kind.name)
