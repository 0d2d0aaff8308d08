"""Flood control: a budget of commands per person, and people served in turn.

One person's flood must never delay another person's answer: work waits in a queue per
person, and the queues are served one item at a time in turn (each person's own items
stay in order). Commands beyond a person's budget are not run at all.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Generic, TypeVar

from commands.policy import FloodPolicy

T = TypeVar("T")


class Budget:
    """A token bucket per person: ``command_burst`` commands at once, refilled at
    ``commands_per_minute``. Kept in memory: what matters is the last minutes."""

    PRUNE_AT = 10_000  # people remembered before the full buckets are forgotten

    def __init__(self, policy: FloodPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = float(policy.command_burst)
        self.per_second = policy.commands_per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # person -> (tokens, when counted)

    def take(self, who: str) -> bool:
        """Spend one command of ``who``'s budget; False when it is spent."""
        now = self.clock()
        tokens, at = self._buckets.get(who, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.per_second)
        if len(self._buckets) >= self.PRUNE_AT:
            self._prune(now)
        if tokens < 1.0:
            self._buckets[who] = (tokens, now)
            return False
        self._buckets[who] = (tokens - 1.0, now)
        return True

    def _prune(self, now: float) -> None:
        full = self.burst / self.per_second
        self._buckets = {who: (t, at) for who, (t, at) in self._buckets.items() if now - at < full}


@dataclass
class Item(Generic[T]):
    """One piece of work for one person: ``run`` does it, ``done`` is called after."""

    run: Callable[[], Awaitable[object]]
    done: Callable[[], None] = lambda: None
    skipped: T | None = None  # set for a command beyond the budget: what is recorded instead of running it


@dataclass
class FairQueue:
    """Items per person, handed out one at a time, taking people in turn."""

    _queues: dict[str, deque[Item]] = field(default_factory=dict)
    _turns: deque[str] = field(default_factory=deque)  # people with items waiting, next first
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    size: int = 0

    def put(self, who: str, item: Item) -> None:
        queue = self._queues.get(who)
        if queue is None:
            queue = self._queues[who] = deque()
            self._turns.append(who)
        queue.append(item)
        self.size += 1
        self._ready.set()

    async def get(self) -> tuple[str, list[Item]]:
        """The next person in turn and their next item; a run of skipped commands comes
        whole (they are recorded together)."""
        while not self._turns:
            self._ready.clear()
            await self._ready.wait()
        who = self._turns.popleft()
        queue = self._queues[who]
        items = [queue.popleft()]
        while items[0].skipped is not None and queue and queue[0].skipped is not None:
            items.append(queue.popleft())
        self.size -= len(items)
        if queue:
            self._turns.append(who)  # their next item waits for everyone else's turn
        else:
            del self._queues[who]
        return who, items
