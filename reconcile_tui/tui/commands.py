"""The command palette's commands: whatever the current screen and the app can do right now.

The list is built from the active key bindings of the screen the palette was opened on,
so it follows the screen (and a user keymap) without a second list to keep in step.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

__all__ = ["ScreenCommands"]


@dataclass(frozen=True)
class _Command:
    name: str
    help: str
    run: Any


class ScreenCommands(Provider):
    """Every action of the current screen (and the app), by its footer name."""

    def _commands(self) -> Iterator[_Command]:
        seen: set[str] = set()
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            # Widgets' own keys (cursor moves) have no id and stay out of the palette.
            if not binding.description or not active.enabled or binding.system:
                continue
            if not (binding.show or binding.id):
                continue
            if binding.action in seen:
                continue
            seen.add(binding.action)
            shown_key = self.app.get_key_display(binding)
            tooltip = active.tooltip or binding.tooltip
            shown_key = shown_key or key
            help_text = f"{tooltip} (key: {shown_key})" if tooltip else f"key: {shown_key}"
            yield _Command(
                binding.description,
                help_text,
                partial(self.app.run_action, binding.action, active.node),
            )

    async def discover(self) -> Hits:
        for command in sorted(self._commands(), key=lambda command: command.name):
            yield DiscoveryHit(command.name, command.run, text=command.name, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(command.name),
                    command.run,
                    text=command.name,
                    help=command.help,
                )
