"""The inter-organizational relationships a business can enter, one module per form.

A franchise is one such relationship; partnerships, outsourcing, trade associations or marketing
alliances join the model the same way, as further actors, without edits to the core. A
relationship is a value (``Relationship``: the name of its section in an arm's plan, the cost
lines it may charge, the counters it reports and how it attaches its actor to a batch of
businesses); the model's set of relationships is passed to ``simulate`` and carried to every
worker, never filled into a registry by an import.
"""
