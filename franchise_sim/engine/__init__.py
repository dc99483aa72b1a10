"""The engine layer: running the model many times over and returning plain, frozen results.

Above the model layer. ``replication`` runs one replication's world, ``outcomes`` turns books
into per-(arm, replication) outcomes, ``results`` is the frozen results data and ``runner`` the
Monte Carlo runner over executors. The engine knows nothing of files, plots or printing.
"""
