"""The scenario layer: what a user states, as frozen, validated data.

The bottom floor of the package; it imports nothing else of franchise_sim. ``schema`` is the
configuration (units in names, unknown keys rejected), ``distributions`` the uncertain inputs,
``files`` reads and checks a scenario file (data only: nothing in it is executed), ``changes``
makes a changed copy by dotted path, and ``shelf`` holds the shipped scenarios.
"""
