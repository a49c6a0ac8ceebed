"""``tfgenopt train gan --images DIR`` / ``demo --images DIR``: bad input exits 2, names the fault."""

import os

import pytest

import tfgenopt as tg
from tfgenopt.cli import main


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    x, y = tg.data.make_shapes(24, image_size=16, seed=0)
    return tg.data.write_image_folder(x, y, tmp_path_factory.mktemp("cli") / "shapes")


@pytest.mark.parametrize("argv, says", [
    (["train", "vae", "--images", "{folder}"], "--images trains `gan` only"),
    (["train", "gan", "--images", "{missing}"], "does not exist"),
    (["train", "gan", "--images", "{folder}", "--image-size", "48"], "--image-size"),
    (["demo", "--images", "{missing}"], "does not exist"),
    (["train", "gan", "--image-size", "64"], "image_size"),  # --dataset digits has no 64
])
def test_bad_images_runs_exit_2_naming_the_fault_and_write_nothing(argv, says, folder, tmp_path,
                                                                   capsys):
    out = tmp_path / "out"
    argv = [a.format(folder=folder, missing=tmp_path / "nope") for a in argv]
    assert main(argv + ["--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1
    assert not os.path.exists(out / "model.keras")
