import json

import pytest

from pipelines.registry import claim_next_version, promote_version, read_champion
from pipelines.uri_io import (
    create_uri_bytes,
    join_uri,
    list_uri_children,
    read_csv_parts,
    read_uri_bytes,
    read_uri_bytes_if_present,
    split_gcs_uri,
    write_uri_bytes,
)


def test_registry_round_trip_on_a_local_folder(tmp_path):
    registry = str(tmp_path / "registry")
    assert read_champion(registry) is None
    assert claim_next_version(registry, {"rmse": 3.0}) == 1
    assert claim_next_version(registry, {"rmse": 2.0}) == 2
    pointer = promote_version(registry, 2, {"rmse": 2.0}, {"version": 1, "rmse": 2.5})
    assert read_champion(registry) == pointer
    assert pointer["model_uri"] == f"{registry}/versions/2/model.joblib"
    assert pointer["compared_with"] == {"version": 1, "rmse": 2.5}
    saved = json.loads((tmp_path / "registry/versions/1/metrics.json").read_text())
    assert saved == {"rmse": 3.0}


def test_a_version_claimed_by_another_run_is_skipped(tmp_path):
    registry = str(tmp_path)
    # Another run created versions/2 between our listing and our claim: we must not overwrite.
    (tmp_path / "versions" / "1").mkdir(parents=True)
    assert create_uri_bytes(join_uri(registry, "versions", "2", "metrics.json"), b"{}")
    (tmp_path / "versions" / "2").rename(tmp_path / "versions" / "2-in-flight")
    assert claim_next_version(registry, {}) == 2
    assert not create_uri_bytes(join_uri(registry, "versions", "2", "metrics.json"), b"{}")
    assert claim_next_version(registry, {}) == 3


def test_registry_on_gcs(make_bucket):
    make_bucket("models")
    registry = "gs://models/house-prices/registry"
    assert read_champion(registry) is None
    assert claim_next_version(registry, {"rmse": 5.0}) == 1
    write_uri_bytes(join_uri(registry, "versions", "1", "model.joblib"), b"model-bytes")
    promote_version(registry, 1, {"rmse": 5.0})
    assert claim_next_version(registry, {"rmse": 4.0}) == 2
    assert read_champion(registry)["version"] == 1
    assert list_uri_children(join_uri(registry, "versions")) == ["1", "2"]
    assert read_uri_bytes(f"{registry}/versions/1/model.joblib") == b"model-bytes"
    # Not asserted here: create-only on GCS relies on ifGenerationMatch=0, which real GCS
    # enforces but gcp-storage-emulator ignores (it overwrites).


def test_missing_objects_and_bad_uris_are_named(make_bucket, tmp_path):
    make_bucket("data")
    with pytest.raises(FileNotFoundError, match=r"no object at gs://data/nothing\.csv"):
        read_uri_bytes("gs://data/nothing.csv")
    assert read_uri_bytes_if_present("gs://data/nothing.csv") is None
    assert read_uri_bytes_if_present(str(tmp_path / "nothing.csv")) is None
    with pytest.raises(ValueError, match="gs:// URI has no bucket: 'gs:///x'"):
        split_gcs_uri("gs:///x")
    assert list_uri_children(str(tmp_path / "absent")) == []


def test_a_folder_uri_reads_its_csv_part_files_and_skips_hidden_ones(tmp_path):
    export = tmp_path / "export"
    (export / "sub").mkdir(parents=True)
    for name, content in [("part-1.csv", b"b"), ("part-0.csv", b"a"), ("_SUCCESS", b""),
                          (".part-2.csv.crc", b"x"), ("_tmp.csv", b"x"), ("notes.txt", b"x"),
                          ("sub/part-3.csv", b"x")]:  # fmt: skip
        (export / name).write_bytes(content)
    assert read_csv_parts(f"{export}/") == [
        (f"{export}/part-0.csv", b"a"),
        (f"{export}/part-1.csv", b"b"),
    ]
    assert read_csv_parts(f"{export}/part-1.csv") == [(f"{export}/part-1.csv", b"b")]
    with pytest.raises(FileNotFoundError, match=f"no .csv files directly in {tmp_path}/empty/"):
        read_csv_parts(f"{tmp_path}/empty/")


def test_a_gcs_folder_uri_reads_its_part_files(make_bucket):
    make_bucket("exports")
    for name in ("day/part-0.csv", "day/part-1.csv", "day/_SUCCESS"):
        write_uri_bytes(f"gs://exports/{name}", name.encode())
    assert read_csv_parts("gs://exports/day/") == [
        ("gs://exports/day/part-0.csv", b"day/part-0.csv"),
        ("gs://exports/day/part-1.csv", b"day/part-1.csv"),
    ]
