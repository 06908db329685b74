"""Drift check: compare fresh data with a training baseline and publish a canonical drift alert.

Modules: `checks` (verdicts and the alert), `uris` (gs:// or local reads and writes), `publish`
(Pub/Sub), `render` (the table on stderr), `cli` (`python -m pipelines.drift`). The functions in
`checks`, `uris` and `publish` are self-contained (imports inside their bodies) so the KFP
component in `pipelines.drift_component` can embed them with `additional_funcs`.
"""
