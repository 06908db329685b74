"""The local bucket: stable files only, StorageObjectData from the file, retries, mirroring."""

import base64
import hashlib
import os

import pytest
from gcp_storage_emulator.server import create_server
from google.cloud import storage

from local.bucket import BucketWatcher, StorageEmulatorMirror, http_deliverer
from tests.local.receiver import CloudEventReceiver

CSV = b"sqft,price\n1200,250000\n"


@pytest.fixture
def receiver():
    with CloudEventReceiver() as server:
        yield server


@pytest.fixture
def root(tmp_path):
    (tmp_path / "local-data" / "incoming").mkdir(parents=True)
    (tmp_path / "local-data" / "training").mkdir(parents=True)
    return tmp_path


def write(path, content: bytes, mtime_ns: int | None = None) -> None:
    path.write_bytes(content)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))


def test_a_new_file_fires_once_it_is_stable(root, receiver):
    watcher = BucketWatcher(root, http_deliverer(receiver.url))
    write(root / "local-data/incoming/a.csv", CSV)
    assert watcher.poll() == []  # first sight: could still be growing
    [obj] = watcher.poll()
    assert watcher.poll() == []  # delivered once
    assert obj.name == "incoming/a.csv"
    [event] = receiver.events
    assert receiver.headers[0]["ce-type"] == "google.cloud.storage.object.v1.finalized"  # binary
    assert receiver.headers[0]["content-type"] == "application/json"
    assert event["source"] == "//storage.googleapis.com/projects/_/buckets/local-data"
    assert event["subject"] == "objects/incoming/a.csv"
    data = event.data
    assert data["bucket"] == "local-data"
    assert data["name"] == "incoming/a.csv"
    assert data["size"] == str(len(CSV))
    assert data["md5Hash"] == base64.b64encode(hashlib.md5(CSV).digest()).decode()
    assert data["contentType"] == "text/csv"
    assert data["id"] == f"local-data/incoming/a.csv/{data['generation']}"
    assert data["selfLink"] == (
        "https://www.googleapis.com/storage/v1/b/local-data/o/incoming%2Fa.csv"
    )
    assert data["metageneration"] == "1"
    assert data["timeCreated"] == data["updated"]


def test_crc32c_is_gcs_base64_big_endian(root, receiver):
    watcher = BucketWatcher(root, http_deliverer(receiver.url))
    write(root / "local-data/abc.txt", b"abc")
    watcher.poll()
    watcher.poll()
    # the CRC32C of "abc" is 0x364B3FB7
    assert receiver.events[0].data["crc32c"] == "Nks/tw=="


def test_a_file_still_being_written_does_not_fire(root, receiver):
    watcher = BucketWatcher(root, http_deliverer(receiver.url))
    path = root / "local-data/incoming/big.csv"
    write(path, CSV, mtime_ns=1_000_000_000_000)
    watcher.poll()
    write(path, CSV * 2, mtime_ns=2_000_000_000_000)  # grew between polls
    assert watcher.poll() == []
    assert receiver.events == []
    [obj] = watcher.poll()
    assert obj.content == CSV * 2


def test_an_overwrite_is_a_new_higher_generation(root, receiver):
    watcher = BucketWatcher(root, http_deliverer(receiver.url))
    path = root / "local-data/incoming/a.csv"
    write(path, CSV, mtime_ns=5_000_000_000_000)
    watcher.poll()
    [first] = watcher.poll()
    write(path, CSV + b"1300,260000\n", mtime_ns=5_000_000_000_000)  # same mtime, new size
    watcher.poll()
    [second] = watcher.poll()
    assert second.generation > first.generation
    assert receiver.events[0]["id"] != receiver.events[1]["id"]


def test_hidden_temporary_and_bucket_level_files_are_ignored(root, receiver):
    watcher = BucketWatcher(root, http_deliverer(receiver.url))
    write(root / "local-data/.a.csv", CSV)
    write(root / "local-data/incoming/a.csv.part", CSV)
    write(root / "stray.csv", CSV)  # not inside a bucket folder
    watcher.poll()
    assert watcher.poll() == []


def test_files_present_at_start_do_not_fire(root, receiver):
    write(root / "local-data/incoming/old.csv", CSV)
    watcher = BucketWatcher(root, http_deliverer(receiver.url))
    watcher.prime()
    watcher.poll()
    assert watcher.poll() == []


def test_a_refused_delivery_is_retried_with_the_same_event(root, receiver):
    receiver.answers = [500]
    watcher = BucketWatcher(root, http_deliverer(receiver.url))
    write(root / "local-data/incoming/a.csv", CSV)
    watcher.poll()
    assert watcher.poll() == []  # answered 500
    assert len(watcher.poll()) == 1  # redelivered
    first, second = receiver.events
    assert first["id"] == second["id"]
    assert first.data == second.data


def test_an_unreachable_target_keeps_the_event_pending(root):
    watcher = BucketWatcher(root, http_deliverer("http://127.0.0.1:9/"))
    write(root / "local-data/incoming/a.csv", CSV)
    watcher.poll()
    assert watcher.poll() == []


@pytest.fixture
def storage_url(monkeypatch):
    server = create_server("127.0.0.1", 0, in_memory=True)
    server.start()
    url = f"http://127.0.0.1:{server._api._httpd.server_port}"
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", url)
    yield url
    server.stop()


def read_object(bucket: str, name: str) -> bytes:
    return storage.Client(project="local-project").bucket(bucket).blob(name).download_as_bytes()


def test_mirroring_makes_the_object_readable_through_the_storage_emulator(
    root, receiver, storage_url
):
    watcher = BucketWatcher(root, http_deliverer(receiver.url), StorageEmulatorMirror(storage_url))
    write(root / "local-data/incoming/a.csv", CSV)
    watcher.poll()
    watcher.poll()
    assert read_object("local-data", "incoming/a.csv") == CSV


def test_files_present_at_start_are_mirrored_without_an_event(root, receiver, storage_url):
    write(root / "local-data/training/latest.csv", CSV)
    watcher = BucketWatcher(root, http_deliverer(receiver.url), StorageEmulatorMirror(storage_url))
    watcher.prime()
    assert read_object("local-data", "training/latest.csv") == CSV
    assert receiver.events == []


def test_a_mirrored_object_is_announced_with_the_generation_gcs_gave_it(
    root, receiver, storage_url
):
    watcher = BucketWatcher(root, http_deliverer(receiver.url), StorageEmulatorMirror(storage_url))
    write(root / "local-data/incoming/a.csv", CSV)
    watcher.poll()
    watcher.poll()
    blob = storage.Client(project="local-project").bucket("local-data").get_blob("incoming/a.csv")
    [event] = receiver.events
    assert int(event.data["generation"]) == blob.generation  # a sweep finds the same identity


def test_files_written_in_one_poll_are_announced_in_write_order(root, receiver):
    watcher = BucketWatcher(root, http_deliverer(receiver.url))
    (root / "local-data/exports").mkdir(parents=True)
    write(root / "local-data/exports/part-1.csv", CSV, mtime_ns=1_000_000_000)
    write(root / "local-data/exports/_SUCCESS", b"\n", mtime_ns=2_000_000_000)  # sorts first
    watcher.poll()
    watcher.poll()
    assert [e.data["name"] for e in receiver.events] == ["exports/part-1.csv", "exports/_SUCCESS"]
