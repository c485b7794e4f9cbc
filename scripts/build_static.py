"""Copy the front-end libraries we serve from node_modules into powerdesk/static/vendor."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "powerdesk" / "static" / "vendor"
FILES = {
    "htmx.org/dist/htmx.min.js": "htmx.min.js",
    "echarts/dist/echarts.min.js": "echarts.min.js",
    "weui/dist/style/weui.min.css": "weui.min.css",
    "leaflet/dist/leaflet.js": "leaflet/leaflet.js",
    "leaflet/dist/leaflet.css": "leaflet/leaflet.css",
    "leaflet/dist/images": "leaflet/images",
}


def main() -> int:
    missing = [src for src in FILES if not (ROOT / "node_modules" / src).exists()]
    if missing:
        print("missing from node_modules (run npm ci):", ", ".join(missing), file=sys.stderr)
        return 1
    for src, dest in FILES.items():
        source, target = ROOT / "node_modules" / src, VENDOR / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
    print(f"static vendor files in {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
