"""An Open311 GeoReport v2 client session against GridDispatch, for tests/tests/open311_client.rs.

Reads with the `georeport` client (PyPI, pinned by install.sh) in both of its formats, JSON and
XML; files with a plain form POST as the spec describes it (the client library reads only).

Environment: GD_OPEN311 (root, e.g. http://127.0.0.1:8080/open311/v2), GD_API_KEY, GD_LAT,
GD_LON, GD_SERVICE. Prints one JSON object with what it saw; exits non-zero on a failure.
"""

import json
import os
import sys

import requests
from georeport import GeoReport

root = os.environ["GD_OPEN311"]
key = os.environ["GD_API_KEY"]
lat, lon = os.environ["GD_LAT"], os.environ["GD_LON"]
service = os.environ["GD_SERVICE"]
out = {}

for fmt in ("json", "xml"):
    client = GeoReport(root, api_key=key, output_format=fmt)
    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    assert service in codes, (fmt, codes)
    out[f"services_{fmt}"] = len(services)
    definition = client.get_service_definition(service)
    out[f"definition_{fmt}"] = definition["service_code"]

    # File one request with a position and one with only an address, as a 12345 platform does.
    created = requests.post(
        f"{root}/requests.{fmt}",
        data={
            "api_key": key,
            "service_code": service,
            "lat": lat,
            "long": lon,
            "description": f"市民反映占道经营 ({fmt})",
            "first_name": "小明",
            "last_name": "李",
            "phone": "13700000000",
            "email": "li@example.com",
        },
        timeout=30,
    )
    created.raise_for_status()
    if fmt == "json":
        placed = created.json()[0]["service_request_id"]
    else:
        import xmltodict

        placed = xmltodict.parse(created.content)["service_requests"]["request"]["service_request_id"]
    by_address = requests.post(
        f"{root}/requests.{fmt}",
        data={
            "api_key": key,
            "service_code": service,
            "address_string": "人民路 8 号",
            "description": f"来电反映噪声扰民 ({fmt})",
        },
        timeout=30,
    )
    by_address.raise_for_status()

    one = client.get_service_request(placed)
    out[f"one_{fmt}"] = {k: one.get(k) for k in ("service_request_id", "status", "service_code", "lat", "long")}
    assert one["service_request_id"] == placed, one
    listed = client.get_service_requests(service_request_id=placed, status="open")
    if isinstance(listed, dict):  # xmltodict gives a single <request> as a dict
        listed = [listed]
    out[f"listed_{fmt}"] = [r["service_request_id"] for r in listed]
    everything = client.get_service_requests(service_code=service, status="open,closed")
    if isinstance(everything, dict):
        everything = [everything]
    out[f"all_{fmt}"] = len(everything)
    text = json.dumps(everything, ensure_ascii=False) + json.dumps(one, ensure_ascii=False)
    assert "13700000000" not in text and "li@example.com" not in text, "the contact leaked"
    out[f"placed_{fmt}"] = placed

# A wrong key gets the spec's error, in JSON.
refused = requests.post(
    f"{root}/requests.json",
    data={"api_key": "wrong", "service_code": service, "address_string": "x", "description": "x"},
    timeout=30,
)
out["refused"] = {"status": refused.status_code, "body": refused.json()}
print(json.dumps(out, ensure_ascii=False))
sys.stdout.flush()
