"""What a placeholder may cost: a budget per placeholder and one per render, and the meter that keeps count.

Structural checks in the sandbox keep every single operation small (no step may build a value
over ``value_size``); the meter bounds how many steps a placeholder takes, how much it builds in
all, and how much CPU time it uses, so no expression runs away in time or memory. The clock is
read inside the sandbox's hooks (every few steps) rather than from a timer thread or a signal:
library code stays free of threads and signal handlers, and every single step is short.

The budgets are settings: ``NVPOLICY_PLACEHOLDER_SECONDS`` and friends (see ``SETTINGS``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from nvpolicy.errors import RenderError

# How often (in steps) the meter reads the CPU clock; a step is short, so a few dozen are too.
_CLOCK_EVERY = 32


class TemplateFault(Exception):
    """Raised inside evaluation; turned into a RenderError with the value's location."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class BudgetExhausted(TemplateFault):
    """The whole render's budget is spent: the render stops here instead of failing every placeholder."""


@dataclass(frozen=True)
class Budget:
    """The limits, with their defaults; ``from_environ`` reads the ``NVPOLICY_*`` settings."""

    placeholder_seconds: float = 1.0  # CPU seconds one placeholder may take
    placeholder_steps: int = 10_000  # calls, filters, operators, lookups and items it may go through
    value_size: int = 65_536  # one value: characters of a text, characters + items of a list/mapping
    placeholder_size: int = 16 * 1024 * 1024  # the size of all values one placeholder builds, summed
    render_seconds: float = 60.0  # CPU seconds all placeholders of one environment's render may take
    render_size: int = 64 * 1024 * 1024  # the size of all placeholder results of one render, summed

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Budget:
        values: dict[str, Any] = {}
        for item in fields(cls):
            variable = SETTINGS[item.name]
            raw = environ.get(variable)
            if raw is None or raw.strip() == "":
                continue
            values[item.name] = _setting(variable, raw, float if item.type == "float" else int)
        return cls(**values)


SETTINGS = {
    "placeholder_seconds": "NVPOLICY_PLACEHOLDER_SECONDS",
    "placeholder_steps": "NVPOLICY_PLACEHOLDER_STEPS",
    "value_size": "NVPOLICY_VALUE_SIZE",
    "placeholder_size": "NVPOLICY_PLACEHOLDER_SIZE",
    "render_seconds": "NVPOLICY_RENDER_SECONDS",
    "render_size": "NVPOLICY_RENDER_SIZE",
}


def _setting(variable: str, raw: str, kind: type) -> float | int:
    try:
        value = kind(raw.strip().replace("_", ""))
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value <= 0:
        expected = "a positive number of seconds" if kind is float else "a positive whole number"
        raise RenderError(f"{variable}={raw!r}: expected {expected}",
                          hint=f"unset {variable} for the default ({getattr(Budget(), _field(variable))})")
    return value  # type: ignore[no-any-return]


def _field(variable: str) -> str:
    return next(name for name, setting in SETTINGS.items() if setting == variable)


class Meter:
    """Counts one render's placeholders against a budget; ``begin``/``end`` bracket one placeholder."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.render_seconds = 0.0
        self.render_size = 0
        self.steps = 0
        self.size = 0
        self._started = 0.0
        self._deadline = math.inf
        self._depth = 0

    def begin(self) -> None:
        self._depth += 1
        if self._depth > 1:
            return  # a placeholder evaluated inside another (never today): one budget for both
        self._check_render()
        self.steps = 0
        self.size = 0
        self._started = time.thread_time()
        self._deadline = self._started + self.budget.placeholder_seconds

    def end(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.render_seconds += time.thread_time() - self._started
            self._deadline = math.inf

    def step(self, count: int = 1) -> None:
        """One more operation; every few, the CPU clock is compared with the deadline."""
        before = self.steps
        self.steps += count
        if self.steps > self.budget.placeholder_steps:
            raise TemplateFault(f"placeholder takes more than {self.budget.placeholder_steps:,} steps",
                                f"placeholders compute small values; the limit is NVPOLICY_PLACEHOLDER_STEPS "
                                f"(default {Budget().placeholder_steps:,})")
        if before // _CLOCK_EVERY != self.steps // _CLOCK_EVERY:
            self.check_clock()

    def check_clock(self) -> None:
        now = time.thread_time()
        if now > self._deadline:
            raise TemplateFault(f"placeholder runs longer than {self.budget.placeholder_seconds:g}s of CPU time",
                                f"placeholders compute small values; the limit is NVPOLICY_PLACEHOLDER_SECONDS "
                                f"(default {Budget().placeholder_seconds:g})")
        if self.render_seconds + (now - self._started) > self.budget.render_seconds:
            raise self._render_spent("seconds")

    def charge(self, value: Any) -> Any:
        """Count a value a step built; refuse it when it alone, or all built so far, is too large."""
        size = weight(value, self.budget.value_size)
        if size > self.budget.value_size:
            raise TemplateFault(f"a step of the placeholder builds a value larger than {self.budget.value_size:,} "
                                "(characters + items)", _size_hint("NVPOLICY_VALUE_SIZE", Budget().value_size))
        self.size += size
        if self.size > self.budget.placeholder_size:
            raise TemplateFault(f"placeholder builds more than {self.budget.placeholder_size:,} characters + items "
                                "in all", _size_hint("NVPOLICY_PLACEHOLDER_SIZE", Budget().placeholder_size))
        return value

    def charge_result(self, size: int) -> None:
        """A placeholder's result, towards the render's total."""
        self.render_size += size
        if self.render_size > self.budget.render_size:
            raise self._render_spent("size")

    def _check_render(self) -> None:
        if self.render_seconds > self.budget.render_seconds:
            raise self._render_spent("seconds")
        if self.render_size > self.budget.render_size:
            raise self._render_spent("size")

    def _render_spent(self, what: str) -> BudgetExhausted:
        if what == "seconds":
            return BudgetExhausted(
                f"the placeholders of this render take more than {self.budget.render_seconds:g}s of CPU time "
                "in all; rendering stops here",
                f"the limit is NVPOLICY_RENDER_SECONDS (default {Budget().render_seconds:g})")
        return BudgetExhausted(
            f"the placeholders of this render yield more than {self.budget.render_size:,} characters + items "
            "in all; rendering stops here", _size_hint("NVPOLICY_RENDER_SIZE", Budget().render_size))


def _size_hint(variable: str, default: int) -> str:
    return f"placeholders compute small values; the limit is {variable} (default {default:,})"


def weight(value: Any, cap: int) -> int:
    """The size of a value: 1 per value, plus characters of texts and items of containers.

    Shared references count each time they appear (that is what printing or joining costs), and
    the walk stops as soon as ``cap`` is passed, so measuring is never dearer than the cap.
    """
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        total += 1
        if isinstance(item, (str, bytes, bytearray)):
            total += len(item)
        elif isinstance(item, int):
            total += item.bit_length() // 64
        elif isinstance(item, Mapping):
            if total + 2 * len(item) > cap:
                return total + 2 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            if total + len(item) > cap:
                return total + len(item)
            stack.extend(item)
        if total > cap:
            return total
    return total
