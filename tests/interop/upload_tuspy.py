#!/usr/bin/env python3
"""Upload files to GridDispatch's tus endpoint with tuspy, then check through the API that each
became evidence with the same SHA-256 and byte-identical content.

Driven by tests/tests/interop.rs; runnable by hand too:
    GD_API=http://127.0.0.1:8080 python3 upload_tuspy.py photo.jpg video.mp4

Environment:
    GD_API         server base URL, used for login and for the checks (required)
    GD_TUS         tus endpoint (default $GD_API/files/); the tests point it at a proxy that
                   cuts the connection once, so the upload must resume
    GD_TOKEN       bearer token; without it, logs in as GD_USER / GD_PASSWORD
    GD_USER        default grid_member;  GD_PASSWORD default griddemo2026 (the demo accounts)
    GD_CHUNK_SIZE  bytes per PATCH (default 262144)
    GD_CHECKSUM    1 (default): every PATCH carries `Upload-Checksum: sha1 ...` (tuspy's
                   upload_checksum); 0: none, so a cut chunk keeps the bytes that arrived

A failed PATCH is
retried by tuspy itself (`retries`: HEAD for the offset, PATCH from there); should tuspy give up,
the upload is resumed once more by a new Uploader on the same URL, as an app would after a
restart. Prints one JSON line per file on stdout (with the offset of every PATCH sent); exits
non-zero on any failure.
"""

import datetime
import hashlib
import json
import mimetypes
import os
import sys
import uuid

import requests
from tusclient import client as tus_client
from tusclient import request as tus_request
from tusclient.exceptions import TusCommunicationError, TusUploadFailed

API = os.environ.get("GD_API", "").rstrip("/")
ENDPOINT = os.environ.get("GD_TUS") or f"{API}/files/"
CHUNK = int(os.environ.get("GD_CHUNK_SIZE", "262144"))
WITH_CHECKSUM = os.environ.get("GD_CHECKSUM", "1") != "0"
TIMEOUT = 60

# Record the offset of every PATCH tuspy sends (it calls requests.patch through its module).
PATCH_OFFSETS = []


class _RecordingRequests:
    def __getattr__(self, name):
        return getattr(requests, name)

    @staticmethod
    def patch(url, **kwargs):
        PATCH_OFFSETS.append(int(kwargs["headers"]["upload-offset"]))
        return requests.patch(url, **kwargs)


tus_request.requests = _RecordingRequests()


def token():
    if os.environ.get("GD_TOKEN"):
        return os.environ["GD_TOKEN"]
    resp = requests.post(
        f"{API}/api/v1/auth/login",
        json={
            "username": os.environ.get("GD_USER", "grid_member"),
            "password": os.environ.get("GD_PASSWORD", "griddemo2026"),
            "device_id": "interop-tuspy",
        },
        timeout=TIMEOUT,
    )
    resp.raise_for_status()
    return resp.json()["access_token"]


def upload(bearer, path):
    with open(path, "rb") as f:
        data = f.read()
    sha256 = hashlib.sha256(data).hexdigest()
    attachment_id = str(uuid.uuid4())
    ctype = mimetypes.guess_type(path)[0] or "application/octet-stream"
    client = tus_client.TusClient(ENDPOINT, headers={"Authorization": f"Bearer {bearer}"})
    metadata = {
        "attachment_id": attachment_id,
        "sha256": sha256,
        "filename": os.path.basename(path),
        "filetype": ctype,
        "captured_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "lat": "30.2741",
        "lon": "120.1551",
        "crs": "wgs84",
        "device_model": "tuspy",
    }
    options = dict(chunk_size=CHUNK, upload_checksum=WITH_CHECKSUM, retries=5, retry_delay=0.3)
    PATCH_OFFSETS.clear()
    uploader = client.uploader(path, metadata=metadata, **options)
    resumes = 0
    try:
        uploader.upload()
    except (TusUploadFailed, TusCommunicationError) as err:
        # tuspy's own retries were exhausted: resume like an app after a restart, with a new
        # Uploader on the stored URL (it asks the server for the offset with HEAD).
        print(f"tuspy: resuming {uploader.url} after: {err}", file=sys.stderr)
        resumes += 1
        uploader = client.uploader(path, url=uploader.url, metadata=metadata, **options)
        uploader.upload()
    return data, sha256, attachment_id, uploader.url, resumes


def verify(bearer, path, data, sha256, attachment_id, url, resumes):
    auth = {"Authorization": f"Bearer {bearer}"}
    resp = requests.get(f"{API}/api/v1/attachments/{attachment_id}", headers=auth, timeout=TIMEOUT)
    if resp.status_code != 200:
        raise SystemExit(f"attachment {attachment_id}: HTTP {resp.status_code} {resp.text}")
    view = resp.json()
    if view["sha256"] != sha256:
        raise SystemExit(f"{path}: server sha256 {view['sha256']} != local {sha256}")
    if view["size"] != len(data):
        raise SystemExit(f"{path}: server size {view['size']} != {len(data)}")
    orig = requests.get(
        f"{API}/api/v1/attachments/{attachment_id}/content",
        params={"variant": "original"},
        headers=auth,
        timeout=TIMEOUT,
    )
    if orig.status_code != 200:
        raise SystemExit(f"original {attachment_id}: HTTP {orig.status_code}")
    if orig.content != data:
        raise SystemExit(f"{path}: downloaded original differs ({len(orig.content)} bytes)")
    return {
        "client": "tuspy",
        "file": os.path.basename(path),
        "attachment_id": attachment_id,
        "upload_url": url,
        "size": len(data),
        "sha256": sha256,
        "kind": view["kind"],
        "resumes": resumes,
        "patch_offsets": list(PATCH_OFFSETS),
    }


def main():
    if not API:
        raise SystemExit("GD_API is required")
    if len(sys.argv) < 2:
        raise SystemExit("usage: upload_tuspy.py FILE...")
    bearer = token()
    for path in sys.argv[1:]:
        print(json.dumps(verify(bearer, path, *upload(bearer, path))), flush=True)


if __name__ == "__main__":
    main()
