"""The analysis layer: pure functions of results.

Above the engine layer. ``statistics`` (intervals, survival curves), ``comparison`` (the
headline comparison of arms), ``sweeps`` (grids of changes), ``drivers`` (what drives the
difference), ``attribution`` (a franchise's difference taken apart mechanism by mechanism),
``model_check`` (the model against published figures) and ``reference`` (the published tables).
"""
