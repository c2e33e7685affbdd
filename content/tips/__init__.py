"""Daily security tips: ``/tip``, the per-channel schedule and its delivery.

- ``feature`` — the one place ``/tip`` and the ``tip:`` buttons are handled (``setup(host)``).
- ``delivery`` — the scheduler and the fan-out that posts due tips.
- ``pacing`` — spacing posts per conversation and per workspace.
- ``schedule`` — working days, bank holidays and GMT/BST arithmetic.
- ``store`` — all the tips SQL (subscriptions, ledger, feedback, pauses) and its migrations.
"""
