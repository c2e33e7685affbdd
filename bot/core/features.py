"""Features plug into the app here, so adding one never means editing the core.

Each feature module has ``setup(host)``: it registers commands and actions, its
store's migrations, and any background task (a scheduler, an escalation worker).
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.registry import Registry
    from bot.core.turn import Services
    from bot.core.webhooks import Receiver
    from bot.workers import Worker

# The one list to edit when a feature is added.
FEATURES: list[str] = [
    "bot.commands.help",
    "bot.commands.deadletters",
    "bot.commands.workspaces",
    "bot.audit.command",
    "bot.privacy.command",
    "content.tips.feature",
    "content.quiz.feature",
    "content.training.feature",
    "content.assessment.feature",
    "incidents.feature",
    "incidents.reviews.feature",
    "incidents.register.feature",
    "incidents.posture.feature",
]

Background = Callable[["Services"], AsyncIterator[None]]


@dataclass
class FeatureHost:
    services: Services
    background: list[Background] = field(default_factory=list)
    # path -> receiver of signed calls from other services (bot/core/webhooks.py)
    webhooks: dict[str, Receiver] = field(default_factory=dict)

    @property
    def registry(self) -> Registry:
        return self.services.registry

    def add_background(self, task: Background) -> None:
        """An async generator: code before ``yield`` runs at start-up, after it at shutdown."""
        self.background.append(task)

    def add_webhook(self, path: str, receiver: Receiver) -> None:
        """Serve ``POST path`` (aiohttp syntax: ``/webhooks/paging/{target}``) with
        ``receiver``, which checks the caller's signature itself."""
        self.webhooks[path] = receiver

    def add_worker(self, worker: Worker) -> None:
        """A :class:`bot.workers.Worker`: started with the app, stopped and drained at
        shutdown."""
        self.background.append(worker.background)


def load_features(host: FeatureHost, names: list[str] | None = None) -> None:
    for name in FEATURES if names is None else names:
        importlib.import_module(name).setup(host)
