"""Checks that every place's anchor, and points 600 m around it, fall in
the place's district (routes them with the hotline binary given as argv[1])."""
import csv, json, subprocess, sys
import common

lines = []
for k, (d, s, c, a) in common.PLACES.items():
    for i, (dx, dy) in enumerate([(0, 0), (600, 0), (-600, 0), (0, 600), (0, -600)]):
        lon, lat = common.offset(a, dx, dy)
        lines.append(json.dumps({"id": f"{k}/{i}", "text": "路灯不亮", "lon": lon, "lat": lat}))
out = subprocess.run([sys.argv[1], "route", "--no-model"], input="\n".join(lines) + "\n",
                     capture_output=True, text=True).stdout
names = {r["code"]: r["name"] for r in csv.DictReader(open("../../../../data/beijing/districts.csv"))}
bad = 0
for l in out.splitlines():
    r = json.loads(l)
    key = r["id"].split("/")[0]
    if names.get(r.get("district")) != common.PLACES[key][0]:
        bad += 1
        print("outside:", r["id"], common.PLACES[key][0], names.get(r.get("district")))
print("bad", bad)
