import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.house_data import (
    add_derived_features,
    clean_house_prices,
    impute_numeric,
    load_house_prices,
    missing_columns,
    split_house_prices,
)
from pipelines.synthetic import generate_house_prices


def test_missing_column_is_named(data_dir):
    path = data_dir / "prices_without_price.csv"
    with pytest.raises(ValueError, match=r"prices_without_price.csv is missing required "
                                         r"column\(s\): price$"):
        load_house_prices(path.read_bytes(), str(path))


def test_missing_columns_lists_all_in_schema_order():
    assert missing_columns(["price", "sqft", " bedrooms "]) == [
        "bathrooms", "year_built", "lot_sqft", "neighborhood"]


def test_unreadable_csv_is_rejected_with_its_source():
    with pytest.raises(ValueError, match=r"gs://b/empty\.csv is not a readable CSV file"):
        load_house_prices(b"", "gs://b/empty.csv")


def test_extra_columns_are_dropped(data_dir):
    frame = load_house_prices((data_dir / "prices_dirty.csv").read_bytes(), "dirty")
    assert "listing_id" not in frame.columns
    assert list(frame.columns)[-1] == "price"


def test_cleaning_blanks_impossible_values_and_drops_unusable_rows(data_dir):
    raw = load_house_prices((data_dir / "prices_dirty.csv").read_bytes(), "dirty")
    cleaned = clean_house_prices(raw)
    # 8 rows: one exact duplicate, one without price, one priced 0 are dropped.
    assert len(cleaned) == 5
    assert cleaned["price"].tolist() == [612000, 455000, 530000, 298000, 701000]
    assert math.isnan(cleaned.loc[1, "sqft"])          # -40 sqft
    assert math.isnan(cleaned.loc[2, "bedrooms"])      # "four"
    assert cleaned["neighborhood"].tolist() == [
        "downtown", "riverside", "suburbia", "unknown", "riverside"]


def test_cleaning_everything_away_is_an_error():
    frame = pd.DataFrame({"sqft": [1000], "bedrooms": [2], "bathrooms": [1], "year_built": [1990],
                          "lot_sqft": [2000], "neighborhood": ["x"], "price": [None]})
    with pytest.raises(ValueError, match="no usable rows"):
        clean_house_prices(frame)


def test_split_is_seeded_and_complete():
    frame = generate_house_prices(100, seed=2)
    train, validation, test = split_house_prices(frame, 0.2, 0.1, seed=7)
    assert (len(train), len(validation), len(test)) == (70, 20, 10)
    again = split_house_prices(frame, 0.2, 0.1, seed=7)
    pd.testing.assert_frame_equal(test, again[2])
    rows = pd.concat([train, validation, test]).sort_values(list(frame.columns))
    pd.testing.assert_frame_equal(rows.reset_index(drop=True),
                                  frame.sort_values(list(frame.columns)).reset_index(drop=True))


@pytest.mark.parametrize(("validation", "test"), [(0, 0.2), (0.5, 0.5), (0.2, 1.2)])
def test_bad_split_fractions_are_named(validation, test):
    with pytest.raises(ValueError, match="validation_fraction and test_fraction must be"):
        split_house_prices(generate_house_prices(50, seed=1), validation, test, seed=1)


def test_too_few_rows_to_split():
    with pytest.raises(ValueError, match="2 usable rows are too few"):
        split_house_prices(generate_house_prices(2, seed=1), 0.2, 0.2, seed=1)


def test_imputation_uses_the_reference_medians():
    train = pd.DataFrame({"sqft": [1000.0, 3000.0, None], "bedrooms": [2, 4, 3],
                          "bathrooms": [1, 2, 1], "year_built": [1990, 2000, 2010],
                          "lot_sqft": [1, 2, 3]})
    test = train.assign(sqft=[None, None, 5.0])
    imputed_train, imputed_test = impute_numeric([train, test], reference=train)
    assert imputed_train["sqft"].tolist() == [1000.0, 3000.0, 2000.0]
    assert imputed_test["sqft"].tolist() == [2000.0, 2000.0, 5.0]


def test_derived_features():
    frame = pd.DataFrame({"sqft": [1200.0, 900.0], "bedrooms": [2, 0], "bathrooms": [1.0, 0.0],
                          "year_built": [2000, 2030]})
    derived = add_derived_features(frame)
    assert derived.loc[0, "sqft_per_room"] == 400.0
    assert math.isnan(derived.loc[1, "sqft_per_room"])  # no rooms: unknown, not infinite
    assert derived["age"].tolist() == [25, 0]


cell = st.one_of(st.none(), st.integers(-10**6, 10**7), st.floats(allow_nan=True),
                 st.sampled_from(["", "n/a", "downtown", " Riverside "]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries({name: cell for name in (
    "sqft", "bedrooms", "bathrooms", "year_built", "lot_sqft", "neighborhood", "price")}),
    min_size=1, max_size=12))
def test_cleaning_any_table_keeps_only_priced_plausible_unique_rows(rows):
    frame = pd.DataFrame(rows, dtype=object)
    try:
        cleaned = clean_house_prices(frame)
    except ValueError as error:
        assert "no usable rows" in str(error)
        return
    assert cleaned["price"].between(1, 1e10).all()
    assert cleaned["sqft"].dropna().between(100, 100_000).all()
    assert cleaned["year_built"].dropna().between(1600, 2100).all()
    assert not cleaned.duplicated().any()
    assert cleaned["neighborhood"].map(lambda value: isinstance(value, str) and value != "").all()
