"""What an import did, as data; the command prints it, tests read it."""

from __future__ import annotations

from dataclasses import dataclass, field

from nvpolicy.learn.literal import printable


@dataclass
class ImportReport:
    """Every entry is one human-readable line, grouped by what it tells the user."""

    imported: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    ports_locked: list[str] = field(default_factory=list)
    ports_unlocked: list[str] = field(default_factory=list)
    literal: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    peers: dict[str, dict[str, object]] = field(default_factory=dict)
    sidecars: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)

    def sections(self) -> list[tuple[str, list[str]]]:
        """Titled sections in print order; empty ones are left out by the printer."""
        peers = [f"{name}: {_flow(binding)}" for name, binding in sorted(self.peers.items())]
        return [
            ("objects imported", self.imported),
            ("placeholders introduced", self.placeholders),
            ("rules renamed", self.renamed),
            ("ports locked", self.ports_locked),
            ("ports left as learned (could not lock)", self.ports_unlocked),
            ("stayed literal", self.literal),
            ("skipped", self.skipped),
            ("sidecars split out", self.sidecars),
            ("notes", self.notes),
            ("peers to bind in every other environment (source environment's binding shown)", peers),
            ("merged", self.merged),
            ("conflicts (left for you to resolve)", self.conflicts),
            ("written", self.written),
        ]

    def render(self) -> str:
        lines: list[str] = []
        for title, entries in self.sections():
            if not entries:
                continue
            lines.append(f"{title}:")
            # Entries quote exports and events: one printable line each, no terminal escape sequences.
            lines.extend(f"  {printable(entry)}" for entry in entries)
        return "\n".join(lines)


def _flow(binding: dict[str, object]) -> str:
    return "{" + ", ".join(f"{key}: {value}" for key, value in binding.items()) + "}"
