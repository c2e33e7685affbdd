"""The posture summary (issue 19 item 6): what a head of digital checks first, per
workspace or tenant and per owning team: accounts without strong 2FA, accounts whose
recovery contacts are personal, overdue access reviews, people with access who are
untrained, open incidents and the last drill.

Why under ``incidents/``: every figure comes from the register, the access reviews or
the incidents, which live here (the exam records are asked through
``bot.core.training.TrainingRecords``, as the access check asks them). Nothing is kept
of its own: no table, only reads.

- ``reading`` — the stores read for some tenants (a handful of queries);
- ``figures`` — the counting, per team, with no database (runs in a worker thread);
- ``view`` — the chat message: counts, then short lists, then where the detail is;
- ``metrics`` — the same figures as Prometheus gauges, read at scrape time;
- ``feature`` — the admin-only ``posture`` command and the gauges' wiring.
"""
