"""The reports as a person sees them (the demo's and ``tfgenopt compare``'s), in headless Chromium.

Rendered at 1280 x 900. A copy of the page gets a small script that measures the laid-out DOM
after every image has loaded and writes the numbers as JSON into the page;
``chromium --headless --dump-dom`` prints the page and the test reads them back. Skipped (with the reason in ``-ra``'s summary) when no
Chromium is installed (``apt-get install chromium``); ``.ci/run`` runs ``make test`` only.
"""

import html
import json
import re
import shutil
import subprocess

import pytest

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser",
                                               "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium not installed (apt-get install chromium): the rendered "
                             "report was NOT checked in a browser")
WIDTH, SCREEN = 1280, 900

MEASURE = """<script>
window.addEventListener('load', () => {
  const vw = window.innerWidth, vh = window.innerHeight, y = window.scrollY;
  const head = document.getElementById('headline');
  const box = head ? head.getBoundingClientRect() : null;
  const imgs = [...document.images].map(i => ({alt: i.alt, natural: i.naturalWidth,
      complete: i.complete, w: i.getBoundingClientRect().width,
      h: i.getBoundingClientRect().height}));
  const wide = [...document.body.querySelectorAll('*')].filter(e => {
      const r = e.getBoundingClientRect(); return r.right > vw + 1 || r.width > vw; })
    .map(e => e.tagName + '.' + e.className);
  const out = document.createElement('pre');
  out.id = 'tfgenopt-measure';
  out.textContent = JSON.stringify({vw, vh, scrollWidth: document.documentElement.scrollWidth,
      headline: box && {top: box.top + y, bottom: box.bottom + y, text: head.innerText},
      text: document.body.innerText, imgs, wide});
  document.body.appendChild(out);
});
</script>"""


def render(run, folder):
    """The laid-out numbers of ``run/report.html`` in headless Chromium, with its summary."""
    page = (run / "report.html").read_text(encoding="utf-8")
    probe = folder / "report.html"
    probe.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           f"--window-size={WIDTH},{SCREEN}", "--virtual-time-budget=15000", "--dump-dom",
           probe.as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    found = re.search(r'<pre id="tfgenopt-measure">(.*?)</pre>', dom, re.S)
    assert found, f"the measuring script did not run; chromium printed {dom[:300]!r}"
    data = json.loads(html.unescape(found.group(1)))
    data["summary"] = json.loads((run / "summary.json").read_text())
    data["size_kb"] = len(page.encode()) / 1024
    return data


@pytest.fixture(scope="module")
def rendered(quick_demo, tmp_path_factory):
    code, run = quick_demo
    assert code == 0
    return render(run, tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def rendered_compare(tmp_path_factory):
    """``tfgenopt compare`` on a tiny budget (tests/test_comparison.py checks its numbers)."""
    from tfgenopt.cli import main

    run = tmp_path_factory.mktemp("compare") / "run"
    assert main(["compare", "--image-size", "8", "--widths", "8,16", "--budget", "1",
                 "--n-samples", "64", "--batch-size", "128", "-v", "0", "--out", str(run)]) == 0
    return render(run, tmp_path_factory.mktemp("browser_compare"))


def test_viewport_is_the_one_asked_for(rendered):
    assert rendered["vw"] == WIDTH


def test_headline_is_on_the_first_screen(rendered):
    head = rendered["headline"]
    assert head is not None, "no element with id='headline'"
    assert head["top"] < 150 and head["bottom"] <= SCREEN, head


def test_headline_holds_the_verdict_numbers(rendered):
    text, run = rendered["headline"]["text"], rendered["summary"]["headline"]
    fid = [v for v in run["curves"]["val_fid"] if v is not None]
    assert f"{fid[0]:.3g} → {min(fid):.3g}" in text  # first -> best, 3 significant digits
    best = fid.index(min(fid)) + 1
    assert f"epoch {best}" in text
    kid = run["curves"]["val_kid"]
    assert f"{kid[0]:.3g}" in text and f"{min(kid):.3g}" in text
    covered = round(run["curves"]["val_coverage"][-1] * 10)
    assert f"{covered}/10 classes" in text
    assert f"{run['epochs_run']} of {run['epochs']} epochs" in text
    assert f"epoch {run['restored_epoch']}" in text
    assert "digits" in text and "GAN" in text


def test_no_image_is_taller_than_one_and_a_half_screens(rendered):
    tall = [(i["alt"][:40], i["h"]) for i in rendered["imgs"] if i["h"] > 1.5 * rendered["vh"]]
    assert not tall


def test_nothing_is_wider_than_the_viewport(rendered):
    assert rendered["scrollWidth"] <= WIDTH and not rendered["wide"], rendered["wide"][:5]


def test_every_image_loaded(rendered):
    assert len(rendered["imgs"]) >= 12
    assert all(i["complete"] and i["natural"] > 0 for i in rendered["imgs"])


def test_raw_json_is_linked_not_inlined(rendered):
    text = rendered["text"]
    assert "summary.json" in text
    assert '"curves"' not in text and "d_hessian_trace_std" not in text
    assert rendered["size_kb"] < 1000, f"report.html is {rendered['size_kb']:.0f} KB"


# The comparison report (`tfgenopt compare`): the same layout checks, its own headline.
def test_compare_headline_is_on_the_first_screen_and_names_the_pick(rendered_compare):
    head, summary = rendered_compare["headline"], rendered_compare["summary"]
    assert head is not None and head["top"] < 150 and head["bottom"] <= SCREEN, head
    assert f"Pick {summary['pick']}" in head["text"]


def test_compare_headline_holds_every_familys_numbers(rendered_compare):
    from tfgenopt.report import fmt

    text = rendered_compare["headline"]["text"]
    for name, f in rendered_compare["summary"]["families"].items():
        assert name in text and f"FID {fmt(f['fid'])}, KID {fmt(f['kid'])}" in text, name
        assert f"{f['epochs']} epochs in {fmt(f['train_cpu_s'])} CPU-s" in text, name


def test_compare_page_fits_the_viewport_and_every_image_loaded(rendered_compare):
    r = rendered_compare
    assert r["scrollWidth"] <= WIDTH and not r["wide"], r["wide"][:5]
    assert not [i for i in r["imgs"] if i["h"] > 1.5 * r["vh"]]
    families = r["summary"]["families"]
    assert len(r["imgs"]) >= len(families) + 2  # the pick, each family's grid, the curves
    assert all(i["complete"] and i["natural"] > 0 for i in r["imgs"])
    assert "summary.json" in r["text"] and '"curve"' not in r["text"]
