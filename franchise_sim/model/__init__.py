"""The model layer: one replication's world, actor by actor.

Above the scenario layer. ``calendar`` gives the order of what happens within a month,
``randomness`` the keyed random streams, ``money`` the money arithmetic (pure functions),
``plan`` a replication's draws from the scenario; the actors are ``market``, ``customers``,
``business``, ``owner``, ``lender`` and ``shocks``, and ``relationships`` the inter-organizational
relationships a business can enter (the franchise first).
"""
