"""Storage.list streams pages, honours offsets, stops when its caller does; stat reads metadata.

Against the JSON API stand-in of ``local/storage_stand_in.py`` (pages, offsets, partial responses,
counts) and gcp-storage-emulator (one page, no offsets): both must give the same names for what
both implement, and the client must keep to its span whatever the server did with the offsets.
"""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from vertex_trigger.errors import DeploymentError
from vertex_trigger.google.api_calls import ApiCalls
from vertex_trigger.google.http import HttpClient
from vertex_trigger.google.retries import Retrier, RetryPolicy
from vertex_trigger.google.storage import ListingStoppedError, Span, Storage

from local.storage_stand_in import StorageStandIn, serve_in_thread
from tests.functions.helpers import DATA, FaultyProxy
from tests.functions.helpers import StorageStandIn as Emulator

NAMES = [
    "f/_SUCCESS", "f/a.csv", "f/b.csv", "f/c.csv", "f/sub/", "f/sub/d.csv", "f/sub/deeper/e.csv",
    "f/sub2/f.csv", "f/z.csv", "f-other/g.csv", "g/h.csv",
]  # fmt: skip
# Short backoff for the failure cases; timeouts roomy enough for a loaded CI machine.
FAST = RetryPolicy(initial_delay=0.01, max_delay=0.02, deadline=2.0, request_timeout=1.0)


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StorageStandIn]:
    server = serve_in_thread()
    server.add_objects("b", [{"name": name, "content": name} for name in NAMES])
    try:
        yield server
    finally:
        server.stop()


def storage(url: str, policy: RetryPolicy = FAST) -> Storage:
    return Storage(HttpClient(), url, ApiCalls(Retrier(policy)))


def names(listed: Iterator) -> list[str]:
    return [o.name for o in listed]


@pytest.mark.parametrize(("prefix", "delimiter"), [("f/", "/"), ("f/", ""), ("f", "/"), ("", "")])
def test_the_stand_in_lists_what_gcp_storage_emulator_lists(
    stand_in: StorageStandIn, gcs: Emulator, prefix: str, delimiter: str
) -> None:
    bucket = f"parity-{len(prefix)}-{len(delimiter)}"
    for name in NAMES:
        gcs.upload(bucket, name, name.encode())
    stand_in.add_objects(bucket, [{"name": name} for name in NAMES])
    emulated = names(storage(gcs.url).list(bucket, prefix, delimiter=delimiter))
    assert names(storage(stand_in.url).list(bucket, prefix, delimiter=delimiter)) == emulated
    assert emulated == sorted(emulated)  # name order, as the JSON API lists


def test_pages_are_asked_for_as_they_are_read(stand_in: StorageStandIn) -> None:
    stand_in.reset_counts()
    listing = storage(stand_in.url).list("b", "", first_page=2)
    assert names(next(listing) for _ in range(2)) == ["f-other/g.csv", "f/_SUCCESS"]
    assert stand_in.counts()["list_calls"] == 1  # a caller that stops asks for nothing more
    assert len(names(listing)) == len(NAMES) - 2
    # Pages of 2, then 20: the first small for callers that need few, then tenfold.
    assert stand_in.counts() == {"list_calls": 2, "items_listed": 11, "metadata_reads": 0,
                                 "media_reads": 0}  # fmt: skip


def test_pages_hold_at_most_1_000_entries_and_carry_only_the_fields_read(
    stand_in: StorageStandIn,
) -> None:
    stand_in.add_objects("many", [{"name": f"x/{n:05d}"} for n in range(2_500)])
    stand_in.reset_counts()
    assert len(names(storage(stand_in.url).list("many", "x/"))) == 2_500
    assert stand_in.counts()["list_calls"] == 3
    answer = requests.get(f"{stand_in.url}/storage/v1/b/many/o", timeout=10, params={
        "prefix": "x/", "maxResults": "5000",
        "fields": "items(name,generation,size,timeCreated,contentType),nextPageToken"})  # fmt: skip
    page = answer.json()
    assert len(page["items"]) == 1_000  # "this parameter or 1,000 items, whichever is smaller"
    assert set(page) == {"items", "nextPageToken"}
    assert set(page["items"][0]) == {"name", "generation", "size", "timeCreated", "contentType"}


def test_offsets_bound_a_listing_on_the_stand_in(stand_in: StorageStandIn) -> None:
    stand_in.reset_counts()
    span = Span("f/", start_offset="f/b.csv", end_offset="f/sub2/")
    assert names(storage(stand_in.url).list("b", span)) == [
        "f/b.csv", "f/c.csv", "f/sub/", "f/sub/d.csv", "f/sub/deeper/e.csv"
    ]  # fmt: skip
    assert stand_in.counts()["items_listed"] == 5  # the server skipped the rest


def test_offsets_hold_against_a_server_that_ignores_them(gcs: Emulator) -> None:
    for name in NAMES:
        gcs.upload("ignores-offsets", name, name.encode())
    span = Span("f/", start_offset="f/b.csv", end_offset="f/sub2/")
    listed = names(storage(gcs.url).list("ignores-offsets", span, delimiter="/"))
    assert listed == ["f/b.csv", "f/c.csv"]  # gcp-storage-emulator sent them all


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"maxResults": "0"}, "Invalid value for maxResults: '0'"),
        ({"maxResults": "ten"}, "Invalid value for maxResults: 'ten'"),
        ({"pageToken": "not-a-token"}, "Invalid argument: pageToken"),
        ({"matchGlob": "**.csv"}, "this stand-in does not implement the parameter 'matchGlob'"),
    ],
)
def test_the_stand_in_refuses_what_it_cannot_answer_truly(
    stand_in: StorageStandIn, params: dict[str, str], problem: str
) -> None:
    answer = requests.get(f"{stand_in.url}/storage/v1/b/b/o", params=params, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == problem


def test_page_tokens_resume_after_a_rolled_up_prefix(stand_in: StorageStandIn) -> None:
    url = f"{stand_in.url}/storage/v1/b/b/o"
    seen, params = [], {"prefix": "f/", "delimiter": "/", "maxResults": "1"}
    while True:
        page = requests.get(url, params=params, timeout=10).json()
        seen += page.get("prefixes", []) + [item["name"] for item in page.get("items", [])]
        if "nextPageToken" not in page:
            break
        params["pageToken"] = page["nextPageToken"]
    assert seen == ["f/_SUCCESS", "f/a.csv", "f/b.csv", "f/c.csv", "f/sub/", "f/sub2/", "f/z.csv"]


def test_stat_reads_one_object_s_metadata(stand_in: StorageStandIn) -> None:
    stand_in.reset_counts()
    found = storage(stand_in.url).stat("b", "f/a.csv")
    assert found is not None
    assert (found.name, found.size) == ("f/a.csv", len("f/a.csv"))
    assert found.time_created.tzinfo is not None
    assert storage(stand_in.url).stat("b", "f/nothing.csv") is None  # 404: not there (yet)
    assert stand_in.counts()["metadata_reads"] == 2


def test_stat_reads_the_object_resource_google_sends(tmp_path: Path) -> None:
    # Google's StorageObjectData sample (google-cloudevents, Apache-2.0; the event catalogue
    # copy in tests/functions/data): the object resource objects.get answers, same fields.
    sample = (DATA / "StorageObjectData-simple.json").read_bytes()

    class Resource(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(sample)))
            self.end_headers()
            self.wfile.write(sample)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Resource)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        found = storage(f"http://127.0.0.1:{server.server_address[1]}").stat(
            "sample-bucket", "folder/Test.cs")  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert found is not None
    assert (found.name, found.generation, found.size) == ("folder/Test.cs", 1587627537231057, 352)
    assert found.time_created == datetime(2020, 4, 23, 7, 38, 57, 230000, tzinfo=UTC)
    assert found.content_type == "text/plain"


def test_stat_reads_what_gcp_storage_emulator_writes(gcs: Emulator) -> None:
    written = gcs.upload_object("resource", "folder/Test.cs", b"x" * 352)
    found = storage(gcs.url).stat("resource", "folder/Test.cs")
    assert found is not None
    assert found.generation == int(written["generation"])
    assert found.size == 352


def test_a_refused_metadata_read_is_the_deployment_s_problem(gcs: Emulator) -> None:
    proxy = FaultyProxy(gcs.url)
    proxy.always = 403
    try:
        with pytest.raises(DeploymentError) as error:
            storage(proxy.url).stat("resource", "folder/Test.cs")
    finally:
        proxy.stop()
    refused = "Cloud Storage refused to read gs://resource/folder/Test.cs: HTTP 403"
    assert refused in str(error.value)


def test_a_listing_cut_short_says_how_far_it_got(stand_in: StorageStandIn) -> None:
    listing = storage(stand_in.url).list("many", "x/")
    assert len(names(next(listing) for _ in range(1_000))) == 1_000
    stand_in.slow_listings(status=503)
    try:
        with pytest.raises(ListingStoppedError) as error:
            list(listing)
    finally:
        stand_in.slow_listings()
    assert error.value.pages == 1
    assert str(error.value).startswith("listing gs://many/x/ stopped after 1000 object(s) in 1 "
                                       "page(s): Cloud Storage GET failed")  # fmt: skip


def test_generations_are_microseconds_and_times_milliseconds_as_cloud_storage_writes_them(
    stand_in: StorageStandIn,
) -> None:
    written = stand_in.upload("times", "a.csv", b"1")
    created = datetime.fromisoformat(written["timeCreated"])
    assert written["timeCreated"].endswith("Z") and len(written["timeCreated"]) == 24
    assert abs(int(written["generation"]) / 1e6 - created.timestamp()) < 0.001
    assert created <= datetime.now(UTC)
    assert json.loads(json.dumps(written)) == written
