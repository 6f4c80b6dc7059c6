"""The hub indexes this process's subscriptions by subscription field and filter values."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from chatserver.realtime.compiler import CompiledSubscription
from chatserver.realtime.filter_groups import FilterGroups
from chatserver.realtime.filters import payload_key
from chatserver.realtime.outbox import Outbox
from chatserver.realtime.projection import RootPlan

# field -> filter argument names -> filter values -> (projection plan, `filter` rules) -> subscribers (an
# ordered set). Subscribers with equal plans and equal rules share one rule check and one encoding per publish.
DeliveryKey = tuple[RootPlan, FilterGroups | None]
PlanGroups = dict[DeliveryKey, dict["Subscriber", None]]
_Index = dict[str, dict[tuple[str, ...], dict[tuple[Any, ...], PlanGroups]]]


class Subscriber:
    """One live subscription: where its frames go and how each frame starts (the protocol's id envelope).

    `end` (when given) ends the subscription from the server side (room deleted, group removed): the owner
    unsubscribes and tells its client the protocol's `complete`. `user_sub` and `groups` (the caller's
    groups at start, and the groups the field requires) let the engine find what a group removal ends.
    """

    __slots__ = ("compiled", "end", "groups", "key", "needs_groups", "outbox", "prefix", "user_sub")

    def __init__(
        self,
        compiled: CompiledSubscription,
        outbox: Outbox,
        prefix: str,
        *,
        end: Callable[[Subscriber], None] | None = None,
        user_sub: str | None = None,
        groups: frozenset[str] = frozenset(),
        needs_groups: frozenset[str] | None = None,
    ) -> None:
        self.compiled = compiled
        self.outbox = outbox
        # e.g. '{"type":"data","id":"1","payload":' ; the frame ends with '}'. A binary protocol gives an object
        # whose `frame(payload) -> bytes` builds the whole frame instead (an MQTT PUBLISH to its topic).
        self.prefix = prefix
        self.end = end
        self.user_sub = user_sub
        self.groups = groups
        self.needs_groups = needs_groups
        self.key: DeliveryKey = (compiled.plan, compiled.rules)


class Hub:
    """Finds, for one publication, only the subscribers whose filter matches: one dict lookup per
    distinct set of filter argument names on each linked subscription field."""

    def __init__(self) -> None:
        self._index: _Index = {}
        self._plans: dict[RootPlan, list[Any]] = {}  # plan -> [the one object used for it, subscribers]
        self.size = 0

    def add(self, subscriber: Subscriber) -> None:
        compiled = subscriber.compiled
        by_names = self._index.setdefault(compiled.field_name, {})
        by_values = by_names.setdefault(compiled.filter.names, {})
        plans = by_values.setdefault(compiled.filter.values, {})
        entry = self._plans.get(compiled.plan)
        if entry is None:
            entry = self._plans[compiled.plan] = [compiled.plan, 0]
        elif compiled.plan is not entry[0]:
            # Keep the one plan object for this selection set, not a copy per subscription (~1 KB each).
            compiled = subscriber.compiled = replace(compiled, plan=entry[0])
        entry[1] += 1
        subscriber.key = (entry[0], compiled.rules)
        plans.setdefault(subscriber.key, {})[subscriber] = None
        self.size += 1

    def remove(self, subscriber: Subscriber) -> None:
        compiled = subscriber.compiled
        names, values = compiled.filter.names, compiled.filter.values
        by_names = self._index.get(compiled.field_name)
        if by_names is None or names not in by_names or values not in by_names[names]:
            return
        plans = by_names[names][values]
        members = plans.get(subscriber.key)
        if members is None or subscriber not in members:
            return
        del members[subscriber]
        self.size -= 1
        entry = self._plans.get(compiled.plan)
        if entry is not None:
            entry[1] -= 1
            if entry[1] <= 0:
                del self._plans[compiled.plan]
        if not members:
            del plans[subscriber.key]
            if not plans:
                del by_names[names][values]
                if not by_names[names]:
                    del by_names[names]
                    if not by_names:
                        del self._index[compiled.field_name]

    def matching(self, field_name: str, payload: dict[str, Any]) -> Iterator[PlanGroups]:
        """Plan groups on `field_name` whose filter matches `payload`."""
        by_names = self._index.get(field_name)
        if not by_names:
            return
        for names, by_values in list(by_names.items()):
            key = payload_key(names, payload) if names else ()
            if key is None:
                continue
            try:
                plans = by_values.get(key)
            except TypeError:  # an unhashable payload value can match no filter
                continue
            if plans:
                yield plans

    def bound_to(self, argument: str, value: Any) -> list[Subscriber]:
        """Every subscriber whose equality argument `argument` equals `value` (e.g. a deleted room's)."""
        found: list[Subscriber] = []
        for by_names in self._index.values():
            for names, by_values in by_names.items():
                if argument not in names:
                    continue
                position = names.index(argument)
                for values, plans in by_values.items():
                    if values[position] == value:
                        for members in plans.values():
                            found.extend(members)
        return found
