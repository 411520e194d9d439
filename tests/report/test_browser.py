"""The report in headless Chromium: every <img> decodes (naturalWidth > 0), every section is laid out, and a
screenshot is taken (kept next to the report for a human to look at)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (Debian: apt-get install chromium)")

# appended to a copy of the report: after load, write what the page sees into the DOM for --dump-dom
CHECK = """<script>
window.addEventListener('load', () => {
  const imgs = [...document.images].map(i => ({w: i.naturalWidth, h: i.naturalHeight, ok: i.complete}));
  const ids = [...document.querySelectorAll('section')].map(s => ({id: s.id, h: s.offsetHeight}));
  const pre = document.createElement('pre'); pre.id = 'cnnlab-check';
  pre.textContent = JSON.stringify({imgs, ids, width: document.body.scrollWidth});
  document.body.appendChild(pre);
});
</script>"""

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-dev-shm-usage",
         "--no-first-run", "--disable-extensions"]


def _chromium(args, tmp_path):
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=120)


def test_report_renders_in_headless_chromium(digits_report, tmp_path):
    probe = tmp_path / "probe.html"
    probe.write_text(digits_report.read_text(encoding="utf-8").replace("</body>", CHECK + "</body>"), encoding="utf-8")
    out = _chromium(["--virtual-time-budget=10000", "--dump-dom", probe.as_uri()], tmp_path)
    m = re.search(r'<pre id="cnnlab-check">(.*?)</pre>', out.stdout, re.S)
    assert m, out.stderr[-2000:]
    seen = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert len(seen["imgs"]) > 30
    broken = [i for i, s in enumerate(seen["imgs"]) if not s["ok"] or s["w"] == 0 or s["h"] == 0]
    assert broken == [], f"images that did not load: {broken}"
    ids = {s["id"]: s["h"] for s in seen["ids"]}
    for sid in ("summary", "training", "evaluation", "mistakes", "filters", "featuremaps", "maximize", "attribution"):
        assert ids.get(sid, 0) > 40, (sid, ids)

    shot = digits_report.with_name("report-screenshot.png")
    res = _chromium([f"--screenshot={shot}", "--window-size=1300,5200", digits_report.as_uri()], tmp_path)
    assert shot.is_file(), res.stderr[-2000:]
    from PIL import Image

    img = Image.open(shot).convert("L")
    assert img.size == (1300, 5200)
    lo, hi = img.getextrema()
    assert hi - lo > 100  # not a blank page
