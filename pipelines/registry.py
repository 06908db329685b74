"""The model registry folder (local path or gs://): numbered versions and a champion pointer.

Layout under `registry_uri`:

    champion.json              {"version": 3, "metrics": {...}, "compared_with": {...} | null,
                                "model_uri", "baseline_uri"}
    versions/3/model.joblib    the fitted scikit-learn pipeline
    versions/3/metrics.json    test metrics plus provenance (data_uri, reason, created_at) and
                               `compared_with`: the replaced champion's scores on the same split
    versions/3/baseline.json   monitoring baseline (pipelines.monitoring_stats format)

Components embed these functions with `@dsl.component(additional_funcs=[...])` together with
the `pipelines.uri_io` functions they call (the module-level import is for Python and ruff only;
inside a component those names are the embedded copies).
"""

from typing import Any

from pipelines.uri_io import (
    create_uri_bytes,
    join_uri,
    list_uri_children,
    read_uri_bytes_if_present,
    write_uri_bytes,
)


def read_champion(registry_uri: str) -> dict[str, Any] | None:
    """Return the registry's champion pointer, or None when nothing was promoted yet."""
    import json

    data = read_uri_bytes_if_present(join_uri(registry_uri, "champion.json"))
    return json.loads(data) if data is not None else None


def claim_next_version(registry_uri: str, metrics: dict[str, Any]) -> int:
    """Create the next free versions/<n>/metrics.json and return n (safe against racing runs)."""
    import json

    versions_uri = join_uri(registry_uri, "versions")
    taken = [int(name) for name in list_uri_children(versions_uri) if name.isdigit()]
    version = max(taken, default=0) + 1
    document = json.dumps(metrics, indent=2, sort_keys=True).encode()
    while not create_uri_bytes(join_uri(versions_uri, str(version), "metrics.json"),
                               document):
        version += 1
    return version


def promote_version(registry_uri: str, version: int, metrics: dict[str, Any],
                    compared_with: dict[str, Any] | None = None) -> dict[str, Any]:
    """Point champion.json at a registered version and return the pointer written."""
    import json

    version_uri = join_uri(registry_uri, "versions", str(version))
    pointer = {
        "version": version,
        "metrics": metrics,
        # The champion it replaced, scored on this version's test split (None: there was none).
        "compared_with": compared_with,
        "model_uri": join_uri(version_uri, "model.joblib"),
        "baseline_uri": join_uri(version_uri, "baseline.json"),
    }
    write_uri_bytes(join_uri(registry_uri, "champion.json"),
                    json.dumps(pointer, indent=2, sort_keys=True).encode())
    return pointer
