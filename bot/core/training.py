"""The one question other domains ask of the training records: who holds an exam pass
that is still in date. Declared here, in the core, because the register and posture
(``incidents/``) need the answer while the exam lives in ``content/``, and the two
domains import nothing of each other; the training feature provides it
(``services.find_feature(TrainingRecords)``, None when training is not loaded)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol


class TrainingRecords(Protocol):
    async def current_passes(self, keys: Sequence[str]) -> dict[str, datetime]:
        """For each actor key (``slack:U0123ABCD``) with an exam pass still in date
        (within ``SECBOT_EXAM_REFRESH_MONTHS``, twelve by default), when it was passed."""
        ...
