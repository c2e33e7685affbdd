"""Assigned training (issue 19 item 4): admins and team leads assign the exam with a due
date, people are reminded on working days, and a team report says who has passed.

It lives beside the quiz (``content/``) because completion *is* the quiz's exam record
(``quiz_exam_results``) and the report's weakest topics come from the exam's answers:
nothing is recorded twice.

- ``teams`` — the teams file: who leads and who is in each team, by platform id, so a
  team is known the same way on Slack, Teams and the web chat.
- ``tables``/``store`` — assignments and their reminder timers.
- ``nudges`` — when reminders fall (working days, working hours) and the worker that
  sends each once.
- ``report`` — the team report (chat summary and CSV) and the trained-access check.
- ``feature`` — ``/secbot training …``.
"""
