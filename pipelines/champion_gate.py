"""The champion/challenger gate: score the champion on the challenger's test split, then decide.

Scores recorded in the registry were measured on the data each model was trained with; after
drift that data has another price scale, so those numbers cannot be compared. The gate loads the
champion's model and scores it on the very rows the challenger was tested on.

The decision: promote when there is no champion, or when the challenger's RMSE is at most the
champion's RMSE on the same split × (1 − min_improvement); in both cases the challenger's R² on
its own test split must also reach `min_r2`. Why the floor: when the new data itself is bad (say,
prices no longer related to the houses), a challenger fitted to it beats the champion on that same
bad split, since both score badly and the challenger at least learnt the noise's mean. Its R² is
near or below 0 there, so the floor is what stops a retrain on bad data. When the new data
repeats rows the champion was trained on, its score on the split is optimistic: the gate then
leans towards keeping it, which is the safe side.

A champion that is recorded but cannot be loaded or scored (model file gone, unreadable pickle,
columns it does not accept) keeps its place: without a comparison on the same data there is no
evidence that the challenger is better, and the serving model is unaffected by a broken registry
copy. The reason names what is wrong and how to let the next run promote. A failure a retry can
fix (storage unreachable) is not caught: it fails the task.

Components embed these functions with `additional_funcs` (imports inside the bodies).
"""

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pipelines.house_model import feature_matrix, regression_metrics
from pipelines.uri_io import join_uri, read_uri_bytes_if_present

if TYPE_CHECKING:
    import pandas as pd


class ChampionStatus(StrEnum):
    """What scoring the registry's champion found (components embed literals: no imports)."""

    SCORED = "scored"
    ABSENT = "absent"
    UNUSABLE = "unusable"


def champion_score(status: str, version: int = 0, scores: dict[str, float] | None = None,
                   detail: str = "") -> dict[str, Any]:
    """Return a champion score record: status, version (0: none), rmse, mae, r2, detail."""
    scores = scores or {"rmse": 0.0, "mae": 0.0, "r2": 0.0}
    return {"status": status, "version": version, **scores, "detail": detail}


def score_model_bytes(model_bytes: bytes, test: "pd.DataFrame", target: str) -> dict[str, float]:
    """Unpickle a fitted model and return its RMSE, MAE and R² on `test`."""
    import io

    import joblib

    model = joblib.load(io.BytesIO(model_bytes))
    return regression_metrics(test[target], model.predict(feature_matrix(test)))


def score_registry_champion(registry_uri: str, test: "pd.DataFrame",
                            target: str) -> dict[str, Any]:
    """Score the registry's champion on `test`; say why when there is none or it is unusable."""
    import json

    if not registry_uri:
        return champion_score("absent", detail="no registry_uri: nothing to compare with")
    pointer_uri = join_uri(registry_uri, "champion.json")
    pointer_bytes = read_uri_bytes_if_present(pointer_uri)
    if pointer_bytes is None:
        return champion_score("absent", detail=f"no {pointer_uri}")
    try:
        pointer = json.loads(pointer_bytes)
        version, model_uri = int(pointer["version"]), str(pointer["model_uri"])
    except (ValueError, KeyError, TypeError) as error:
        return champion_score("unusable", detail=f"{pointer_uri} has no valid version and "
                                                 f"model_uri: {type(error).__name__}: {error}")
    model_bytes = read_uri_bytes_if_present(model_uri)
    if model_bytes is None:
        return champion_score("unusable", version, detail=f"no model at {model_uri}")
    try:
        scores = score_model_bytes(model_bytes, test, target)
    # Deliberately broad: unpickling and predicting fail in many ways (wrong library version,
    # other columns, garbage bytes), and each means the same: this model cannot be compared.
    except Exception as error:
        return champion_score("unusable", version,
                              detail=f"cannot score {model_uri}: {type(error).__name__}: {error}")
    return champion_score("scored", version, scores)


def promotion_decision(challenger: dict[str, float], champion: dict[str, Any],
                       min_improvement: float, min_r2: float) -> tuple[bool, str]:
    """Decide from the challenger's test scores and the champion's score on the same split."""
    r2 = float(challenger["r2"])
    floor = f"challenger r2 {r2:.3f} (needs >= {min_r2:g})"
    if champion["status"] == "absent":
        return r2 >= min_r2, f"no champion yet ({champion['detail']}); {floor}"
    if champion["status"] != "scored":
        # Version 0: champion.json itself was unreadable, so the version is unknown.
        named = f"champion v{champion['version']}" if champion["version"] else "champion"
        return False, (f"{named} unusable: {champion['detail']}; not "
                       "promoting without a comparison on the same data: repair the champion's "
                       "files or remove champion.json to let the next run promote")
    best = float(champion["rmse"])
    wanted = best * (1 - min_improvement)
    rmse = float(challenger["rmse"])
    comparison = (f"challenger rmse {rmse:.2f} vs champion v{champion['version']} rmse "
                  f"{best:.2f} on the same test split (needs <= {wanted:.2f}, "
                  f"min_improvement {min_improvement:g})")
    return rmse <= wanted and r2 >= min_r2, f"{comparison}; {floor}"
