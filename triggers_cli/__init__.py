"""`vertex-triggers`: the operator's command line (check, status, replay, explain, backfill)."""
