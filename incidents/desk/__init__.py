"""The incident desk, split by job; ``commands.py`` is where ``/compromised`` arrives.

The flow:

1. ``/compromised [platform] [@account] [dept=<name>]`` posts a triage card
   (``commands.py``); four questions are answered by buttons on that one card
   (``incident:triage``, ``triage.py``), saved in SQLite as they are answered, so a
   restart mid-triage loses nothing.
2. The last answer fixes the severity (``incidents.triage``), snapshots the checklist
   from the playbooks (``incidents.playbooks``), turns the card into the incident card,
   posts the checklist in the incident's room (a thread or private channel, or the
   same conversation) and starts paging (``paging_link.py``, ``incidents.paging``).
3. Checklist buttons (``incident:done|skip|reason|assign``, ``checklist.py``) and the
   Acknowledge button (``incident:ack``, also on chat pages, ``acknowledgement.py``)
   update the messages in place; every change goes on the timeline (``incidents.store``).
4. ``/compromised severity <id> <n>`` adds the steps that now apply and tells the pager,
   which pages a newly matched team when the severity went up (``lifecycle.py``).
5. ``/compromised close <id> <summary>`` resolves paging; ``/compromised report <id>``
   writes the Markdown report (``report.py``). ``/compromised drill`` is the same flow
   marked DRILL, paging only drill-safe targets (``drills.py``).
"""

from incidents.desk.core import IncidentDesk

__all__ = ["IncidentDesk"]
