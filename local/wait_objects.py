"""Wait until an object's content is readable through the storage emulator."""

from __future__ import annotations

import time
from urllib.parse import quote

import requests

from local.object_events import md5_base64


def wait_until_mirrored(
    storage_url: str, bucket: str, name: str, content: bytes, timeout: float = 30.0
) -> None:
    """Poll the GCS JSON API until the object has this content's MD5 (the bucket mirrored it)."""
    expected = md5_base64(content)
    url = f"{storage_url}/storage/v1/b/{bucket}/o/{quote(name, safe='')}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = requests.get(url, timeout=10)
        if response.ok and response.json().get("md5Hash") == expected:
            return
        time.sleep(0.2)
    raise TimeoutError(f"gs://{bucket}/{name} was not mirrored to the storage emulator in time")
