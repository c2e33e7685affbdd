"""The accounts register (issue 19 items 1 and 2): every official social media account a
department runs, who owns it, who can get in, how it is protected and who holds its
recovery email and phone.

Why under ``incidents/``: the register exists so that incident response knows the
account before anyone asks. ``/compromised`` offers the caller's team's accounts and
pre-fills platform, owner and recovery contacts from it, paging routes by the account's
owning team, and drills pick a registered account. It is security data about accounts,
not training content (``content/``), and ``bot/`` holds no domain. The package keeps its
parts side by side: ``platforms`` and ``model`` (what an account is), ``tables`` and
``store`` (how it is kept, per tenant), ``csv_io`` (import and export), ``forms`` and
``views`` (chat), ``feature`` (the ``register`` command).

The stable API other parts build on (access reviews, leavers, training, posture):
:class:`incidents.register.store.RegisterStore` and the types in
:mod:`incidents.register.model`.
"""
