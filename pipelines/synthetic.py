"""Deterministic synthetic house-price data, optionally drifted, for tests and the demo.

`shift` = 0 draws from the reference distribution. A positive shift moves the data the way a
changing market would: houses get bigger (`sqft` and `lot_sqft` scale by 1 + shift) and the
neighborhood mix moves towards the outer neighborhoods (blend weight min(shift, 1)).
Prices follow the same pricing rule either way, so drift is in the inputs, not the concept.

    python -m pipelines.synthetic --rows 500 --seed 7 --shift 0.5 --out /tmp/prices.csv
"""

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.house_data import house_schema

# The columns the pipeline requires, in schema order: what the generated frame must hold.
COLUMNS = (*house_schema()["numeric"], *house_schema()["categorical"], house_schema()["target"])
NEIGHBORHOODS = ("downtown", "riverside", "hillcrest", "suburbia", "oldtown")
REFERENCE_MIX = (0.30, 0.20, 0.15, 0.25, 0.10)
SHIFTED_MIX = (0.05, 0.10, 0.15, 0.60, 0.10)
PRICE_PER_SQFT = {"downtown": 420.0, "riverside": 330.0, "hillcrest": 360.0, "suburbia": 240.0,
                  "oldtown": 280.0}


def neighborhood_mix(shift: float) -> np.ndarray:
    """Return the neighborhood probabilities for a shift (reference mix at 0, shifted at >= 1)."""
    weight = min(max(shift, 0.0), 1.0)
    mix = (1 - weight) * np.array(REFERENCE_MIX) + weight * np.array(SHIFTED_MIX)
    return mix / mix.sum()


def generate_house_prices(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Return `rows` seeded house sales; the same arguments always give the same frame."""
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    if shift < 0:
        raise ValueError(f"shift must be non-negative, got {shift}")
    rng = np.random.default_rng(seed)
    neighborhood = rng.choice(NEIGHBORHOODS, size=rows, p=neighborhood_mix(shift))
    sqft = np.clip(rng.normal(1800, 550, rows), 400, None) * (1 + shift)
    bedrooms = np.clip(np.round(sqft / 600 + rng.normal(0, 0.7, rows)), 1, 8).astype(int)
    bathrooms = np.clip(np.round((bedrooms * 0.6 + rng.normal(0, 0.5, rows)) * 2) / 2, 1, 6)
    year_built = rng.integers(1900, 2025, rows)
    lot_sqft = np.clip(rng.lognormal(8.6, 0.5, rows), 1000, None) * (1 + shift)
    price = price_rule(neighborhood=neighborhood, sqft=sqft, bedrooms=bedrooms,
                       bathrooms=bathrooms, year_built=year_built, lot_sqft=lot_sqft)
    price = price * rng.lognormal(0.0, 0.08, rows)
    return pd.DataFrame({
        "sqft": np.round(sqft).astype(int),
        "bedrooms": bedrooms,
        "bathrooms": bathrooms,
        "year_built": year_built,
        "lot_sqft": np.round(lot_sqft).astype(int),
        "neighborhood": neighborhood,
        "price": np.round(price, -2),
    })


def price_rule(*, neighborhood: np.ndarray, sqft: np.ndarray, bedrooms: np.ndarray,
               bathrooms: np.ndarray, year_built: np.ndarray, lot_sqft: np.ndarray) -> np.ndarray:
    """Return the noiseless price: location-priced floor area plus rooms, lot and age effects."""
    per_sqft = np.array([PRICE_PER_SQFT[name] for name in neighborhood])
    age = 2025 - year_built
    return (per_sqft * sqft + 9_000 * bathrooms + 4_000 * bedrooms + 3.0 * lot_sqft
            - 700 * np.minimum(age, 80) + 25_000)


def main(argv: Sequence[str] | None = None) -> None:
    """Write a synthetic CSV as the command line asks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True, help="number of rows")
    parser.add_argument("--seed", type=int, required=True, help="random seed")
    parser.add_argument("--shift", type=float, default=0.0, help="drift strength, 0 = reference")
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    args = parser.parse_args(argv)
    try:
        frame = generate_house_prices(args.rows, args.seed, args.shift)
    except ValueError as error:
        parser.error(str(error))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    print(f"wrote {len(frame)} rows to {args.out}")


if __name__ == "__main__":
    main()
