"""Access reviews and leavers (issue 19 item 3), and the check that everyone with access
to a registered account has passed the exam (item 4).

Why under ``incidents/``, beside the register it reads and changes: a review's Remove and
a leaver's confirmed removal take people off ``incidents.register``; both exist so that
nobody who should not can get into an official account, which is what incident response
depends on. The exam records live in ``content/``; this package asks them only through
``bot.core.training.TrainingRecords``.

- ``calendar`` — working days and review periods (every ``SECBOT_ACCESS_REVIEW_MONTHS``).
- ``tables``/``store`` — reviews, each decision (one per person per review), leaver tasks.
- ``reviews`` — opening reviews, the Keep / Remove message, reminders, overdue reviews.
- ``leavers`` — ``/secbot leaver @person`` and the owners' confirmations.
- ``trained`` — ``/secbot access check``.
- ``feature`` — commands, actions and the worker.

For ``/secbot posture`` (h19-assess): :func:`incidents.reviews.store.overdue_reviews` and
:func:`incidents.reviews.trained.untrained_with_access`.
"""
