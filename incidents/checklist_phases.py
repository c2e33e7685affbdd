"""The checklist's phases as the checklist message uses them: in working order, with
their titles (``incidents.playbooks`` names them: PHASES, phase_of, phase_label), for
stored rows too, whatever phase name they were kept with."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from incidents.playbooks import PHASES, phase_label
from incidents.playbooks import phase_of as known_phase

if TYPE_CHECKING:
    from incidents.store import StepState

ORDER: tuple[str, ...] = PHASES


def phase_of(name: str) -> str:
    """Today's phase for a stored or playbook phase name (an unknown one as it is)."""
    return known_phase(name) or name


def rank(name: str) -> int:
    phase = phase_of(name)
    return ORDER.index(phase) if phase in ORDER else len(ORDER)


def title(name: str) -> str:
    return phase_label(name)


def in_order(steps: Iterable[StepState]) -> list[StepState]:
    """Steps as the checklist shows them: by phase, then in the order they were added."""
    return sorted(steps, key=lambda s: (rank(s.phase), s.position))


def phases(steps: Iterable[StepState]) -> list[str]:
    """The phases these steps fall in, in working order."""
    return sorted({phase_of(s.phase) for s in steps}, key=rank)
