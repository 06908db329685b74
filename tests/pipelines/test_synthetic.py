import pandas as pd
import pytest

from pipelines.synthetic import COLUMNS, generate_house_prices, main


def test_same_seed_gives_the_same_rows():
    first = generate_house_prices(200, seed=3)
    second = generate_house_prices(200, seed=3)
    pd.testing.assert_frame_equal(first, second)
    assert list(first.columns) == list(COLUMNS)
    assert not first.equals(generate_house_prices(200, seed=4))


def test_values_are_plausible():
    frame = generate_house_prices(500, seed=1)
    assert frame["sqft"].min() >= 400
    assert frame["bedrooms"].between(1, 8).all()
    assert frame["year_built"].between(1900, 2024).all()
    assert (frame["price"] > 0).all()
    assert frame["price"].corr(frame["sqft"]) > 0.5


def test_shift_moves_sizes_and_the_neighborhood_mix():
    reference = generate_house_prices(2000, seed=5)
    drifted = generate_house_prices(2000, seed=5, shift=1.0)
    assert drifted["sqft"].mean() > 1.8 * reference["sqft"].mean()
    reference_share = reference["neighborhood"].value_counts(normalize=True)
    drifted_share = drifted["neighborhood"].value_counts(normalize=True)
    assert drifted_share["suburbia"] - reference_share["suburbia"] > 0.25
    assert reference_share["downtown"] - drifted_share["downtown"] > 0.15


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="rows must be at least 1, got 0"):
        generate_house_prices(0, seed=1)
    with pytest.raises(ValueError, match=r"shift must be non-negative, got -0\.5"):
        generate_house_prices(10, seed=1, shift=-0.5)


def test_command_line_writes_the_csv(tmp_path, capsys):
    out = tmp_path / "nested" / "prices.csv"
    main(["--rows", "25", "--seed", "9", "--shift", "0.3", "--out", str(out)])
    written = pd.read_csv(out)
    pd.testing.assert_frame_equal(written, generate_house_prices(25, seed=9, shift=0.3),
                                  check_dtype=False)
    assert f"wrote 25 rows to {out}" in capsys.readouterr().out


def test_command_line_rejects_bad_rows(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--rows", "0", "--seed", "1", "--out", str(tmp_path / "x.csv")])
    assert "rows must be at least 1" in capsys.readouterr().err
