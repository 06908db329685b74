"""House-price table rules: required columns, cleaning, splitting and derived features.

Components embed these functions with `@dsl.component(additional_funcs=[...])`, so each one is
self-contained (imports inside) and its pandas annotations are strings, never evaluated there.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def house_schema() -> dict[str, Any]:
    """Return the input columns by role: numeric and categorical features, and the target."""
    return {
        "numeric": ["sqft", "bedrooms", "bathrooms", "year_built", "lot_sqft"],
        "categorical": ["neighborhood"],
        "target": "price",
    }


def model_features() -> dict[str, list[str]]:
    """Return the model's input columns after feature engineering, by role."""
    schema = house_schema()
    return {"numeric": [*schema["numeric"], "sqft_per_room", "age"],
            "categorical": schema["categorical"]}


def missing_columns(columns: Iterable[str]) -> list[str]:
    """Return the required columns absent from `columns`, in schema order."""
    schema = house_schema()
    present = {str(column).strip() for column in columns}
    required = [*schema["numeric"], *schema["categorical"], schema["target"]]
    return [name for name in required if name not in present]


def load_house_prices(data: bytes, source: str) -> "pd.DataFrame":
    """Parse CSV bytes into the required columns; raise ValueError naming any missing column."""
    import io

    import pandas as pd

    try:
        frame = pd.read_csv(io.BytesIO(data))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ValueError(f"{source} is not a readable CSV file: {error}") from None
    frame.columns = [str(column).strip() for column in frame.columns]
    absent = missing_columns(frame.columns)
    if absent:
        raise ValueError(f"{source} is missing required column(s): {', '.join(absent)}")
    schema = house_schema()
    # Extra columns are ignored on purpose: upstream exports often carry ids and notes.
    return frame[[*schema["numeric"], *schema["categorical"], schema["target"]]]


def clean_house_prices(frame: "pd.DataFrame") -> "pd.DataFrame":
    """Coerce types, blank out impossible values, drop unpriced rows and exact duplicates."""
    import pandas as pd

    schema = house_schema()
    cleaned = frame.copy()
    for name in [*schema["numeric"], schema["target"]]:
        cleaned[name] = pd.to_numeric(cleaned[name], errors="coerce")
    # Plausible ranges; anything outside is a data-entry error, treated as missing.
    limits = {"sqft": (100, 100_000), "bedrooms": (0, 50), "bathrooms": (0, 50),
              "year_built": (1600, 2100), "lot_sqft": (0, 10_000_000), "price": (1, 1e10)}
    for name, (low, high) in limits.items():
        cleaned[name] = cleaned[name].where(cleaned[name].between(low, high))
    for name in schema["categorical"]:
        text = cleaned[name].astype("string").str.strip().str.lower()
        cleaned[name] = text.mask(text == "").fillna("unknown").astype(object)
    cleaned = cleaned.dropna(subset=[schema["target"]]).drop_duplicates()
    if cleaned.empty:
        raise ValueError("no usable rows: every row lacks a valid price or is a duplicate")
    return cleaned.reset_index(drop=True)


def split_house_prices(frame: "pd.DataFrame", validation_fraction: float,
                       test_fraction: float, seed: int) -> list["pd.DataFrame"]:
    """Shuffle with the seed and return [train, validation, test] frames."""
    import numpy as np

    if not (0 < validation_fraction < 1 and 0 < test_fraction < 1
            and validation_fraction + test_fraction < 1):
        raise ValueError("validation_fraction and test_fraction must be in (0, 1) and sum "
                         f"below 1, got {validation_fraction} and {test_fraction}")
    order = np.random.default_rng(seed).permutation(len(frame))
    n_test = round(len(frame) * test_fraction)
    n_validation = round(len(frame) * validation_fraction)
    if min(n_test, n_validation, len(frame) - n_test - n_validation) < 1:
        raise ValueError(f"{len(frame)} usable rows are too few to split into train, "
                         "validation and test")
    parts = np.split(order, [len(frame) - n_test - n_validation, len(frame) - n_test])
    return [frame.iloc[part].reset_index(drop=True) for part in parts]


def impute_numeric(frames: list["pd.DataFrame"], reference: "pd.DataFrame") -> list["pd.DataFrame"]:
    """Fill missing numeric features with the reference frame's medians (the train split)."""
    numeric = house_schema()["numeric"]
    medians = reference[numeric].median()
    return [frame.fillna(medians.to_dict()) for frame in frames]


def add_derived_features(frame: "pd.DataFrame") -> "pd.DataFrame":
    """Add square feet per room and age (against a fixed year, so serving needs no clock)."""
    reference_year = 2025
    derived = frame.copy()
    rooms = derived["bedrooms"] + derived["bathrooms"]
    derived["sqft_per_room"] = derived["sqft"] / rooms.where(rooms > 0)
    derived["age"] = (reference_year - derived["year_built"]).clip(lower=0)
    return derived
