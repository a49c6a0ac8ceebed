"""`tfgenopt compare` / `tg.compare` (tfgenopt/comparison.py): three families, one budget, one report."""

import contextlib
import html
import io
import json
import math
import re

import pytest

import tfgenopt as tg
from tfgenopt.cli import main
from tfgenopt.report import fmt
from tfgenopt.report.comparison import family_value, pick_family

BUDGET = 1.0
TINY = ["--image-size", "8", "--widths", "8,16", "--budget", str(BUDGET), "--n-samples", "64",
        "--batch-size", "128", "-v", "0"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "run"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["compare", *TINY, "--out", str(out)])
    summary = json.loads((out / "summary.json").read_text())
    return code, out, summary, printed.getvalue()


@pytest.fixture(scope="module")
def run_vae(tmp_path_factory):
    """``tg.compare`` with one family: the report checks that run in make test (~8 s)."""
    out = tmp_path_factory.mktemp("compare_vae") / "run"
    tg.compare("digits", families=("vae",), budget=BUDGET, image_size=8, n_samples=64,
               batch_size=128, out=str(out), verbose=0)
    return 0, out, json.loads((out / "summary.json").read_text()), ""


def slow(*values):
    """A parametrize case that runs in ``make bench`` only (the other cases run in make test)."""
    return pytest.param(*values, marks=pytest.mark.slow)


def headline_rows(page):
    """``{label: text of its cell}`` of the headline's facts table."""
    head = re.search(r"<section class='headline' id='headline'>(.*?)</section>", page, re.S)
    assert head, "no headline"
    cells = re.findall(r"<tr><th>(.*?)</th><td>(.*?)<span", head.group(1), re.S)
    return {html.unescape(a): html.unescape(b) for a, b in cells}, html.unescape(head.group(1))


@pytest.mark.slow  # three trainings (~36 s in the suite); make test compares the VAE alone
def test_compare_trains_all_three_families_for_the_budget(run):
    code, out, summary, printed = run
    assert code == 0 and "pick:" in printed
    assert list(summary["families"]) == ["gan", "diffusion", "vae"]
    for name, f in summary["families"].items():
        assert f["epochs"] >= 1 and f["train_cpu_s"] >= BUDGET, name
        for key in ("fid", "kid", "coverage", "sample_cpu_s_per_image"):
            assert math.isfinite(f[key]), (name, key)
        assert f["num_classes"] == 10 and f["curve"][-1]["val_fid"] == f["fid"]
        assert (out / f["samples"]).stat().st_size > 0
    assert (out / "quality_vs_time.png").stat().st_size > 0
    fresh = tg.models.Diffusion(tg.builders.unet((8, 8, 1), widths=(8, 16)))
    fresh.compile()
    assert summary["families"]["diffusion"]["evaluations_per_image"] == \
        tg.diffusion.samplers.evaluations(*fresh.recipe.sampling())
    assert summary["families"]["gan"]["evaluations_per_image"] == 1


@pytest.mark.parametrize("fixture", ["run_vae", slow("run")])  # "run": the CLI, 3 families
def test_report_holds_each_family_with_the_numbers_of_summary_json(fixture, request):
    _, out, summary, _ = request.getfixturevalue(fixture)
    page = (out / "report.html").read_text()
    rows, text = headline_rows(page)
    for name, f in summary["families"].items():
        assert rows[name] == family_value(f)
        for key in ("fid", "kid", "train_cpu_s", "sample_cpu_s_per_image"):
            assert fmt(f[key]) in rows[name], (name, key)
        assert f"{round(f['coverage'] * 10)}/10 classes" in rows[name]
        assert f"{f['epochs']} epochs" in rows[name]
        cells = re.search(rf"<tr><td>{name}</td>(.*?)</tr>", page, re.S).group(1)
        assert f"<td class='num'>{fmt(f['fid'])}</td>" in cells  # the numbers table
    pick, _ = pick_family(summary["families"])
    assert summary["pick"] == pick and f"Pick {pick}:" in text


def test_the_pick_rule_prefers_full_coverage_then_fid():
    full = {"fid": 30.0, "coverage": 1.0}
    assert pick_family({"gan": {"fid": 10.0, "coverage": 0.8}, "vae": full})[0] == "vae"
    assert pick_family({"gan": {"fid": 10.0, "coverage": 0.8},
                        "vae": {"fid": 5.0, "coverage": 0.7}})[0] == "gan"
    assert pick_family({"gan": {"fid": 10.0}, "vae": {"fid": 5.0}})[0] == "vae"
    assert pick_family({"gan": {"fid": None}})[0] is None


@pytest.mark.parametrize("kwargs, says", [
    ({"budget": 0}, "`budget`"), ({"families": ("gan", "flow")}, "`families`"),
    ({"image_size": 12}, "`image_size`"), ({"n_samples": 1}, "`n_samples`"),
])
def test_bad_arguments_raise_before_any_work(kwargs, says, tmp_path):
    with pytest.raises(ValueError, match=says):
        tg.compare(**{"budget": 1.0, "out": str(tmp_path / "out"), **kwargs})
    assert not (tmp_path / "out").exists()


def test_compare_needs_a_budget_on_the_command_line(capsys):
    assert main(["compare"]) == 2
    assert "--budget" in capsys.readouterr().err
