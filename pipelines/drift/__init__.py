"""Drift check: compare fresh data with a training baseline and publish a canonical drift alert.

Modules: `checks` (verdicts and the alert), `inputs` (baseline and CSV from gs:// or a path),
`report` (the check end to end), `publish` (Pub/Sub), `render` (the table on stderr) and `cli`
(`python -m pipelines.drift`). The functions in `checks`, `inputs`, `report` and `publish` are
self-contained (imports inside their bodies) so the KFP component in `pipelines.drift_component`
can embed them with `additional_funcs`.
"""
