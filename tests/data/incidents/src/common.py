"""Shared machinery for the hand-written incident streams.

The texts, places, times and gold labels are written by hand in dev.py and
heldout.py; this module only does the arithmetic: metre offsets to degrees,
WGS-84 to GCJ-02 / BD-09 (the forward formulas the crate's `Crs` inverts),
ticket ids in stream order, and the JSON Lines.
"""
import json
import math
from datetime import datetime, timedelta, timezone

CST = timezone(timedelta(hours=8))

# Places: key -> (district, street, community as callers say it, WGS-84 anchor).
# Anchors are approximate real positions, checked to fall in their district's
# polygon (check.py).
PLACES = {
    # 朝阳区
    "hjl_jtl": ("朝阳区", "呼家楼街道", "金台里", (116.4600, 39.9215)),
    "hjl_hty": ("朝阳区", "呼家楼街道", "核桃园", (116.4540, 39.9255)),
    "hjl_ddq": ("朝阳区", "呼家楼街道", "东大桥", (116.4520, 39.9190)),
    "tjh_sst": ("朝阳区", "团结湖街道", "三四条", (116.4700, 39.9290)),
    "sj_jl": ("朝阳区", "双井街道", "九龙", (116.4650, 39.8930)),
    "sj_cyl": ("朝阳区", "双井街道", "垂杨柳西里", (116.4600, 39.8890)),
    "js_jsz": ("朝阳区", "劲松街道", "劲松中", (116.4640, 39.8790)),
    "pjy_dl": ("朝阳区", "潘家园街道", "潘家园东里", (116.4660, 39.8730)),
    "wj_hjd": ("朝阳区", "望京街道", "花家地西里", (116.4660, 39.9850)),
    "wj_nhz": ("朝阳区", "望京街道", "南湖中园", (116.4800, 40.0000)),
    "hpj_xhz": ("朝阳区", "和平街街道", "小黄庄", (116.4300, 39.9680)),
    "az_hs": ("朝阳区", "安贞街道", "黄寺", (116.4060, 39.9720)),
    "llt_blz": ("朝阳区", "六里屯街道", "八里庄北里", (116.4950, 39.9280)),
    "zjz_xyx": ("朝阳区", "左家庄街道", "新源西里", (116.4450, 39.9530)),
    "slt_bsl": ("朝阳区", "三里屯街道", "北三里", (116.4530, 39.9370)),
    "sjf_lz": ("朝阳区", "三间房地区", "绿洲家园", (116.5600, 39.9200)),
    # 东城区
    "hpl_xhz": ("东城区", "和平里街道", "小黄庄", (116.4140, 39.9550)),
    "hpl_qnh": ("东城区", "和平里街道", "青年湖", (116.4090, 39.9540)),
    "tt_jt": ("东城区", "天坛街道", "金台", (116.4150, 39.8880)),
    "lt_xf": ("东城区", "龙潭街道", "幸福", (116.4300, 39.8800)),
    "dzm_xzj": ("东城区", "东直门街道", "新中街", (116.4270, 39.9380)),
    "jdk_nlg": ("东城区", "交道口街道", "南锣鼓巷", (116.4030, 39.9370)),
    # 西城区
    "xjk_gy": ("西城区", "新街口街道", "官园", (116.3600, 39.9330)),
    "zll_bwz": ("西城区", "展览路街道", "百万庄西", (116.3380, 39.9270)),
    "yt_yt": ("西城区", "月坛街道", "月坛", (116.3480, 39.9150)),
    "gaw_qnh": ("西城区", "广安门外街道", "青年湖", (116.3320, 39.8900)),
    "gan_hty": ("西城区", "广安门内街道", "核桃园", (116.3620, 39.8920)),
    "bzf_yty": ("西城区", "白纸坊街道", "樱桃园", (116.3580, 39.8780)),
    # 海淀区
    "zgc_hz": ("海淀区", "中关村街道", "黄庄", (116.3180, 39.9780)),
    "xyl_dwz": ("海淀区", "学院路街道", "东王庄", (116.3500, 40.0000)),
    "hyl_mdy": ("海淀区", "花园路街道", "牡丹园", (116.3650, 39.9770)),
    "blz_blz": ("海淀区", "八里庄街道", "八里庄北里", (116.2920, 39.9290)),
    "tcl_xf": ("海淀区", "田村路街道", "幸福", (116.2600, 39.9300)),
    "qh_qhjy": ("海淀区", "清河街道", "清河嘉园", (116.3400, 40.0300)),
    "xsq_wty": ("海淀区", "西三旗街道", "梧桐苑", (116.3450, 40.0500)),
    "hd_dxy": ("海淀区", "海淀街道", "稻香园南", (116.3050, 39.9730)),
    # 丰台区
    "fz_fgy": ("丰台区", "方庄街道", "芳古园一区", (116.4280, 39.8580)),
    "fz_fqy": ("丰台区", "方庄街道", "芳群园二区", (116.4330, 39.8570)),
    "lgq_dwy": ("丰台区", "卢沟桥街道", "大瓦窑", (116.2450, 39.8600)),
    # 石景山区
    "bj_bjbl": ("石景山区", "八角街道", "八角北里", (116.2100, 39.9080)),
    "pgy_py": ("石景山区", "苹果园街道", "苹一", (116.1850, 39.9300)),
    "lg_qxy": ("石景山区", "鲁谷街道", "七星园北", (116.2350, 39.9000)),
    # 通州区
    "by_gy": ("通州区", "北苑街道", "官园", (116.6450, 39.9050)),
    "yq_yqbl": ("通州区", "玉桥街道", "玉桥北里", (116.6800, 39.8980)),
    "zc_bh": ("通州区", "中仓街道", "滨河", (116.6680, 39.9060)),
    "yq_lydl": ("通州区", "玉桥街道", "梨园东里", (116.6750, 39.8900)),
    # 大兴区
    "xhm_jl": ("大兴区", "西红门地区", "九龙", (116.3300, 39.7900)),
    "lxl_xyx": ("大兴区", "林校路街道", "新源西里", (116.3350, 39.7400)),
    "jg_lz": ("大兴区", "旧宫地区", "绿洲家园", (116.4500, 39.8100)),
    "yz_gybl": ("大兴区", "亦庄地区", "贵园北里", (116.5050, 39.7950)),
    # 昌平区
    "hlg_xlc": ("昌平区", "回龙观街道", "新龙城西区", (116.3150, 40.0800)),
    "hlg_lc": ("昌平区", "回龙观街道", "龙城", (116.3300, 40.0720)),
    "ttb_bsy": ("昌平区", "天通苑北街道", "天通北苑第二西", (116.4200, 40.0850)),
}


def offset(anchor, dx, dy):
    """The WGS-84 point dx metres east and dy metres north of anchor."""
    lon, lat = anchor
    return (lon + dx / (111320.0 * math.cos(math.radians(lat))), lat + dy / 110574.0)


def _tlat(x, y):
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _tlon(x, y):
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02(lon, lat):
    a, ee = 6378245.0, 0.00669342162296594323
    dlat = _tlat(lon - 105.0, lat - 35.0)
    dlon = _tlon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(radlat) ** 2
    sq = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sq) * math.pi)
    dlon = (dlon * 180.0) / (a / sq * math.cos(radlat) * math.pi)
    return lon + dlon, lat + dlat


def gcj02_to_bd09(lon, lat):
    xpi = math.pi * 3000.0 / 180.0
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * xpi)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * xpi)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def to_crs(lon, lat, crs):
    if crs == "wgs84":
        return lon, lat
    g = wgs84_to_gcj02(lon, lat)
    return g if crs == "gcj02" else gcj02_to_bd09(*g)


class Stream:
    """Collects tickets and events, then writes them in arrival order."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.items = []  # (arrival, seq, dict)
        self.seq = 0

    def _add(self, arrival, item):
        self.items.append((arrival, self.seq, item))
        self.seq += 1

    def incident(self, label, place, start, tickets, at=(0, 0), note=None):
        """One gold incident at PLACES[place] (shifted by `at` metres), first
        report at `start` ("YYYY-MM-DD HH:MM", China time). Each ticket is
        (minutes after start, text, address or None, point or None[, extra])
        where point is (dx, dy, crs) in metres from the incident's spot and
        extra is a dict: channel, late (minutes it reached the stream after
        its received_at), note."""
        anchor = offset(PLACES[place][3], *at)
        t0 = datetime.strptime(start, "%Y-%m-%d %H:%M").replace(tzinfo=CST)
        for spec in tickets:
            minutes, text, address, point = spec[:4]
            extra = spec[4] if len(spec) > 4 else {}
            received = t0 + timedelta(minutes=minutes)
            item = {"text": text}
            if address:
                item["address"] = address
            if point:
                dx, dy, crs = point
                lon, lat = to_crs(*offset(anchor, dx, dy), crs)
                item.update(lon=round(lon, 6), lat=round(lat, 6), crs=crs)
            item["channel"] = extra.get("channel", "app" if point else "phone")
            item["received_at"] = received.isoformat()
            item["incident"] = label
            n = extra.get("note", note)
            if n:
                item["note"] = n
            arrival = received + timedelta(minutes=extra.get("late", 0))
            self._add(arrival, item)

    def resolved(self, label, when):
        """The incident `label` is resolved at `when`."""
        t = datetime.strptime(when, "%Y-%m-%d %H:%M").replace(tzinfo=CST)
        self._add(t, {"event": "resolved", "incident": label, "at": t.isoformat()})

    def write(self, path):
        self.items.sort(key=lambda x: (x[0], x[1]))
        n = 0
        with open(path, "w", encoding="utf-8") as f:
            for _, _, item in self.items:
                if "event" not in item:
                    n += 1
                    item = {"id": f"{self.prefix}{n:04d}", **item}
                f.write(json.dumps(item, ensure_ascii=False) + "\n")
        labels = {i["incident"] for _, _, i in self.items if "event" not in i}
        print(f"{path}: {n} tickets, {len(labels)} incidents")
