"""Durable timers for an incident (the ICO 72-hour clock, status reminders) and the ICO
clock's own record, kept in the database so a restart loses and repeats nothing.

The jobs that use them are ``incidents/desk/ico.py`` and ``incidents/desk/reminders.py``.
"""

from incidents.clock.store import ClockStore, IcoRecord, Timer

__all__ = ["ClockStore", "IcoRecord", "Timer"]
