"""Seeded synthetic house-price tables for the drift tests (independent of pipelines.synthetic)."""

from __future__ import annotations

import numpy as np
import pandas as pd

NEIGHBORHOODS = ("downtown", "harbour", "hills", "suburbs", "university")
EVEN_MIX = (0.2, 0.2, 0.2, 0.2, 0.2)


def houses(
    rows: int, seed: int, sqft_scale: float = 1.0, mix: tuple[float, ...] = EVEN_MIX
) -> pd.DataFrame:
    """Return house rows; sqft_scale stretches sqft, mix sets the neighborhood shares."""
    rng = np.random.default_rng(seed)
    sqft = np.clip(rng.normal(1800, 400, rows), 400, None) * sqft_scale
    frame = pd.DataFrame(
        {
            "sqft": sqft.round(),
            "bedrooms": rng.integers(1, 6, rows),
            "bathrooms": rng.integers(2, 8, rows) / 2,
            "year_built": rng.integers(1920, 2024, rows),
            "lot_sqft": rng.lognormal(8.5, 0.4, rows).round(),
            "neighborhood": rng.choice(NEIGHBORHOODS, rows, p=mix),
        }
    )
    frame["price"] = (frame["sqft"] * 210 + rng.normal(0, 20_000, rows)).round()
    return frame
