"""GeoReport v2 conformance from a third-party client's side.

Run by tests/server_open311_client.rs against a live server:

    python3 client.py http://127.0.0.1:PORT/open311/v2 SCHEMA_DIR

Posts requests (with `requests`, which the PyPI `georeport` client depends
on: the client itself cannot post), reads services and requests with
`georeport.GeoReport` in JSON and in XML, and validates every JSON answer
against the GeoReport v2 schemas in SCHEMA_DIR with `jsonschema`. Exits
non-zero, with the reason, on the first failure.
"""

import json
import os
import sys

import jsonschema
import requests
import xmltodict
from georeport import GeoReport

BASE, SCHEMAS = sys.argv[1], sys.argv[2]
checks = 0


def validate(doc, name):
    global checks
    with open(os.path.join(SCHEMAS, name + ".json"), encoding="utf-8") as f:
        jsonschema.validate(doc, json.load(f))
    checks += 1


def expect(cond, what):
    global checks
    if not cond:
        raise AssertionError(what)
    checks += 1


# Post: one in JSON with coordinates, one in XML with an address and a
# chosen service.
r = requests.post(
    BASE + "/requests.json",
    data={"description": "楼道灯坏了一个星期了", "lat": "39.9230", "long": "116.4510",
          "email": "caller@example.org", "account_id": "acct-7"},
)
expect(r.status_code == 200, f"POST json: {r.status_code} {r.text}")
expect(r.headers["Content-Type"].startswith("application/json"), r.headers["Content-Type"])
validate(r.json(), "post_response")
first = r.json()[0]["service_request_id"]
expect(r.json()[0]["account_id"] == "acct-7", r.text)

r = requests.post(
    BASE + "/requests.xml",
    data={"description": "暖气片不热", "address_string": "朝阳区呼家楼街道", "service_code": "heating"},
)
expect(r.status_code == 200, f"POST xml: {r.status_code} {r.text}")
expect(r.headers["Content-Type"].startswith("text/xml"), r.headers["Content-Type"])
second = xmltodict.parse(r.content)["service_requests"]["request"]["service_request_id"]

for fmt in ("json", "xml"):
    client = GeoReport(BASE, output_format=fmt)

    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    expect(len(services) > 10 and "heating" in codes, f"{fmt} services: {codes[:5]}")
    heating = services[codes.index("heating")]
    expect(heating["type"] == "realtime", f"{fmt} heating: {heating}")
    expect(str(heating["metadata"]).lower() == "false", f"{fmt} heating: {heating}")

    definition = client.get_service_definition("heating")
    expect(definition["service_code"] == "heating", f"{fmt} definition: {definition}")

    listed = client.get_service_requests()
    if isinstance(listed, dict):  # xmltodict: one element is not a list
        listed = [listed]
    ids = [x["service_request_id"] for x in listed]
    expect(first in ids and second in ids, f"{fmt} requests: {ids}")
    expect(ids.index(second) < ids.index(first), f"{fmt} newest first: {ids}")

    one = client.get_service_request(first)
    expect(one["description"] == "楼道灯坏了一个星期了", f"{fmt} one: {one}")
    expect(one["status"] == "open", f"{fmt} one: {one}")
    expect(abs(float(one["lat"]) - 39.9230) < 1e-9, f"{fmt} lat: {one}")
    two = client.get_service_request(second)
    expect(two["service_code"] == "heating", f"{fmt} two: {two}")

    picked = client.get_service_requests(service_request_id=f"{first},{second}")
    if isinstance(picked, dict):
        picked = [picked]
    expect(len(picked) == 2, f"{fmt} by ids: {picked}")

# The raw JSON answers against the schemas.
validate(requests.get(BASE + "/services.json").json(), "services")
validate(requests.get(BASE + "/services/heating.json").json(), "service_definition")
validate(requests.get(BASE + "/requests.json").json(), "requests")
validate(requests.get(BASE + "/requests.json", params={"status": "open", "service_code": "heating"}).json(), "requests")
validate(requests.get(BASE + f"/requests/{first}.json").json(), "requests")
for method, path, data in [
    ("get", "/requests/no-such-request.json", None),
    ("get", "/services/no.such.json", None),
    ("get", "/requests.json?status=pending", None),
    ("post", "/requests.json", {"email": "nothing@else.org"}),
    ("post", "/requests.json", {"description": "x", "lat": "91", "long": "116"}),
]:
    r = requests.request(method, BASE + path, data=data)
    expect(r.status_code in (400, 404), f"{path}: {r.status_code}")
    validate(r.json(), "errors")
    expect(r.json()[0]["code"] == r.status_code, r.text)

print(f"georeport client: {checks} checks passed")
