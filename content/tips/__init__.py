"""Daily security tips: ``/tip``, the per-channel schedule and its delivery.

- ``feature`` — the one place ``/tip`` and the ``tip:`` buttons are handled (``setup(host)``).
- ``delivery`` — ``TipDelivery``: the background worker and ``/tip send-now``; its module
  docstring tells how one delivery moves through the ledger.
- ``scheduler`` — settling a previous run, next due times, claiming due deliveries.
- ``fanout`` — posting what is ready; ``writes`` — its batched ledger writes and the posts
  in flight; ``refusals`` — what a platform's refusal means (retry, skip, gone).
- ``rotation`` — which tip a channel gets next; ``message`` — how a tip looks;
  ``results`` — what happened to one attempt.
- ``pacing`` — spacing posts per conversation and per workspace.
- ``schedule`` — working days, bank holidays and GMT/BST arithmetic.
- ``store/`` — all the tips SQL (subscriptions, the ledger, votes) and its migrations.
"""
