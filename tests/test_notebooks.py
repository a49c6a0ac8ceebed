"""The Colab notebooks: built from notebooks/notebooks_src.py, stripped, and executed quickly.

Every notebook's code runs in quick mode in the test process (TensorFlow is already loaded
there, so no kernel start-up); ``make bench`` (``-m slow``) runs all seven in a real Jupyter
kernel through nbclient.
"""

import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IN_MAKE_TEST = ("02", "05", "06", "07")  # the others' quick runs: make bench


def slow(*values):
    """A parametrize case that runs in ``make bench`` only (the other cases run in make test)."""
    return pytest.param(*values, marks=pytest.mark.slow)


def test_notebooks_match_their_sources():
    out = subprocess.run([sys.executable, str(ROOT / "notebooks" / "build.py"), "--check"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_all_seven_notebooks_exist():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stripped_and_opens_with_badge_and_install(path):
    nb = json.loads(path.read_text())
    assert all(c.get("outputs", []) == [] for c in nb["cells"])
    assert "colab-badge.svg" in "".join(nb["cells"][0]["source"])
    assert "find_spec(\"tfgenopt\") is None" in "".join(nb["cells"][1]["source"])


@pytest.mark.parametrize("path", [p if p.stem[:2] in IN_MAKE_TEST else slow(p) for p in NOTEBOOKS],
                         ids=lambda p: p.stem)
def test_notebook_code_runs_in_quick_mode(path, tmp_path, monkeypatch, capsys):
    """Each code cell, in order, in one fresh namespace (the cells use no IPython magics).

    ``make test`` runs the GAN, tuning, VAE and diffusion notebooks; the autoencoder, schedules
    and landscape ones (6-19 s each) run here in ``make bench``, and in a kernel there too.
    """
    monkeypatch.setenv("TFGENOPT_NOTEBOOK_QUICK", "1")
    monkeypatch.chdir(tmp_path)
    nb = json.loads(path.read_text())
    namespace = {"__name__": "__main__"}
    for i, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        source = "".join(cell["source"])
        assert not [line for line in source.splitlines() if line.lstrip()[:1] in ("%", "!")]
        exec(compile(source, f"{path.name}[code cell {i}]", "exec"), namespace)
    assert "quick: True" in capsys.readouterr().out


@pytest.mark.slow  # a Jupyter kernel per notebook; make test runs their code in-process
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes_in_a_kernel_in_quick_mode(path, tmp_path, monkeypatch):
    import nbclient
    import nbformat

    monkeypatch.setenv("TFGENOPT_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError naming the failing cell
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("quick: True" in "".join(o.get("text", "")) for o in outputs)
