"""Read and write bytes at a local path or a gs:// URI, for pipeline components.

Components embed these functions with `@dsl.component(additional_funcs=[...])`: KFP copies only
function sources, so each function imports what it needs inside its body. `gs://` goes through
google-cloud-storage, which honours `STORAGE_EMULATOR_HOST` (the local demo's bucket emulator).
"""

def split_gcs_uri(uri: str) -> tuple[str, str]:
    """Return (bucket, object name) of a gs:// URI; raise ValueError naming a malformed one."""
    if not uri.startswith("gs://"):
        raise ValueError(f"not a gs:// URI: {uri!r}")
    bucket, _, name = uri[len("gs://"):].partition("/")
    if not bucket:
        raise ValueError(f"gs:// URI has no bucket: {uri!r}")
    return bucket, name


def join_uri(base: str, *parts: str) -> str:
    """Join path segments onto a local path or a gs:// URI with single slashes."""
    joined = base.rstrip("/")
    for part in parts:
        joined = f"{joined}/{part.strip('/')}"
    return joined


def read_uri_bytes(uri: str) -> bytes:
    """Return the content at uri; raise FileNotFoundError naming it when there is none."""
    import pathlib

    if not uri.startswith("gs://"):
        return pathlib.Path(uri).read_bytes()
    from google.api_core import exceptions
    from google.cloud import storage

    bucket, name = split_gcs_uri(uri)
    try:
        return storage.Client().bucket(bucket).blob(name).download_as_bytes()
    except exceptions.NotFound:
        raise FileNotFoundError(f"no object at {uri}") from None


def read_uri_bytes_if_present(uri: str) -> bytes | None:
    """Return the content at uri, or None when nothing is there."""
    try:
        return read_uri_bytes(uri)
    except FileNotFoundError:
        return None


def write_uri_bytes(uri: str, data: bytes) -> None:
    """Write data at uri, replacing what is there (creating local parent folders)."""
    import pathlib

    if not uri.startswith("gs://"):
        path = pathlib.Path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return
    from google.cloud import storage

    bucket, name = split_gcs_uri(uri)
    storage.Client().bucket(bucket).blob(name).upload_from_string(data)


def create_uri_bytes(uri: str, data: bytes) -> bool:
    """Write data at uri only if nothing is there yet; return False when it already exists."""
    import pathlib

    if not uri.startswith("gs://"):
        path = pathlib.Path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("xb") as handle:
                handle.write(data)
        except FileExistsError:
            return False
        return True
    from google.api_core import exceptions
    from google.cloud import storage

    bucket, name = split_gcs_uri(uri)
    try:
        # Generation 0 means "only if absent": two concurrent runs cannot claim one version.
        storage.Client().bucket(bucket).blob(name).upload_from_string(
            data, if_generation_match=0)
    except exceptions.PreconditionFailed:
        return False
    return True


def list_uri_children(uri: str) -> list[str]:
    """Return the names directly under a local folder or gs:// prefix (empty when absent)."""
    import pathlib

    if not uri.startswith("gs://"):
        folder = pathlib.Path(uri)
        return sorted(child.name for child in folder.iterdir()) if folder.is_dir() else []
    from google.cloud import storage

    bucket, name = split_gcs_uri(uri)
    prefix = name.rstrip("/") + "/" if name else ""
    children = set()
    for blob in storage.Client().list_blobs(bucket, prefix=prefix):
        children.add(blob.name[len(prefix):].split("/", 1)[0])
    return sorted(children)


def read_csv_parts(uri: str) -> list[tuple[str, bytes]]:
    """Return [(uri, bytes)] of the file at uri, or of each CSV directly in a folder (ending /).

    A folder is an export's part files (a batch route passes `{batch_uri}`): names ending .csv,
    leaving out hidden ones (. or _ first, such as _SUCCESS). An empty folder is an error naming it.
    """
    if not uri.endswith("/"):
        return [(uri, read_uri_bytes(uri))]
    names = [n for n in list_uri_children(uri) if n.endswith(".csv") and n[0] not in "._"]
    if not names:
        raise FileNotFoundError(f"no .csv files directly in {uri}")
    return [(join_uri(uri, name), read_uri_bytes(join_uri(uri, name))) for name in names]


# What a component that reads a URI embeds with `additional_funcs` (callee first).
READ_FUNCTIONS = [split_gcs_uri, read_uri_bytes]
READ_PARTS_FUNCTIONS = [*READ_FUNCTIONS, join_uri, list_uri_children, read_csv_parts]
