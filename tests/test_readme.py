"""The README and docs/*.md: the first screen, every relative link, and the numbers they quote.

These read files only (plus three tiny builders), so they cost well under a second.
"""

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")  # [text](target) and ![alt](target)


def text(path):
    return path.read_text(encoding="utf-8")


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    heading = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return heading.replace(" ", "-")


def anchors(path):
    body = re.sub(r"```.*?```", "", text(path), flags=re.S)  # no headings inside code blocks
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", body, flags=re.M)}


def links(path):
    body = re.sub(r"```.*?```", "", text(path), flags=re.S)
    return [m.group(1) for m in LINK.finditer(body)]


def table(path, first_column):
    """``{first cell: [cells]}`` of the markdown table whose header starts with ``first_column``."""
    rows, inside = {}, False
    for line in text(path).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_column:
            inside, rows = True, {}
            continue
        if inside and line.startswith("|"):
            if not set(cells[0]) <= {"-", ":"}:
                rows.setdefault(cells[0], []).append(cells)
        elif inside:
            return rows
    assert inside, f"no table starting with {first_column!r} in {path.name}"
    return rows


class TestFirstScreen:
    def test_the_two_commands_are_the_first_lines(self):
        lines = text(README).splitlines()
        assert lines[0] == "# tfgenopt" and lines[2] == "```"
        assert lines[3].startswith("make demo ") and lines[4].startswith("make test ")

    def test_the_first_trained_model_is_within_the_first_60_lines(self):
        lines = text(README).splitlines()
        first_fit = next(i for i, line in enumerate(lines) if ".fit(" in line)
        assert first_fit < 60
        assert any(".compile(" in line for line in lines[:first_fit])

    def test_the_sections_come_in_the_promised_order(self):
        headings = re.findall(r"^## (.+)$", text(README), flags=re.M)
        order = ["Quickstart", "What is in it", "Which GAN recipe (measured)", "Guides", "Tests"]
        assert [h for h in headings if h in order] == order

    def test_reference_reliability_and_benchmarks_live_in_docs(self):
        readme = text(README)
        assert len(readme.splitlines()) < 150
        for page in ("reference", "reliability", "benchmarks", "development"):
            assert f"(docs/{page}.md" in readme


class TestLinks:
    @pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
    def test_every_relative_link_resolves(self, path):
        broken = []
        for target in links(path):
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            file, _, anchor = target.partition("#")
            resolved = (path.parent / file).resolve() if file else path
            if not resolved.exists():
                broken.append(f"{target} (no file {resolved})")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                broken.append(f"{target} (no heading #{anchor} in {resolved.name})")
        assert not broken, f"{path.name}: {broken}"

    def test_every_docs_page_is_linked_from_the_readme_or_another_page(self):
        linked = {(p.parent / t.partition("#")[0]).resolve() for p in PAGES for t in links(p)}
        assert [p.name for p in PAGES[1:] if p.resolve() not in linked] == []


class TestQuotedNumbers:
    def test_the_recipe_table_matches_its_source_in_the_benchmarks_page(self):
        """Each README row is the 240 CPU-s row of docs/benchmarks.md, cell for cell."""
        readme = table(README, "recipe")
        source = table(ROOT / "docs" / "benchmarks.md", "recipe")
        assert {"default", "keras_io"} <= readme.keys()
        for name, [row] in readme.items():
            [full] = [r for r in source[name] if r[1].startswith("240 ")]
            # README: recipe | what | classes | FID | KID | failures
            # docs:   recipe | CPU-s | classes | FID | KID | D acc | failures
            assert row[2:5] + row[5:] == full[2:5] + full[6:], name
        assert "240 CPU-seconds (= 120 s on 2 cores)" in text(README)

    def test_the_quoted_architectures_are_the_builders_defaults(self):
        import tfgenopt as tg

        def widths(model):
            return "-".join(str(int(layer.units)) for layer in model.layers
                            if hasattr(layer, "units"))

        readme = text(README)
        ae = tg.builders.dense_autoencoder()
        assert "784-" + widths(ae) == "784-64-32-784" and "784-64-32-784 autoencoder" in readme
        assert "100-" + widths(tg.builders.dense_generator(latent_dim=100)) == "100-64-32-784"
        assert "784-" + widths(tg.builders.dense_discriminator()) == "784-32-64-1"
        assert "# 100-64-32-784" in readme and "# 784-32-64-1" in readme
        assert f"{ae.count_params():,} parameters" in text(ROOT / "docs" / "reference.md")

    def test_counts_quoted_in_the_feature_table(self):
        import tfgenopt as tg

        readme = text(README)
        words = {6: "six", 7: "seven"}
        notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
        assert f"{words[len(notebooks)]} Colab notebooks" in readme
        assert f"{len(tg.losses.names())} losses" in readme
        x, xv = tg.data.load_digits(image_size=8, flatten=True)
        assert f"{len(x) + len(xv):,} bundled digits" in readme

    def test_the_slow_tests_are_the_ones_the_development_page_lists(self):
        page = text(ROOT / "docs" / "development.md")
        listed = set(re.findall(r"^- `(tests/[\w/]+\.py(?:::[\w:]+)?)`", page, flags=re.M))
        assert listed == slow_tests()


def slow_tests():
    """``path::Class``, ``path::test`` or ``path::Class::test`` of everything marked ``slow``.

    A test counts when a decorator names ``mark.slow``, or calls a module-level helper that
    does (``pytest.param(..., marks=[pytest.mark.slow])`` for some of its cases).
    """
    found = set()
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        name = path.relative_to(ROOT).as_posix()
        helpers = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)
                   and not node.name.startswith("test") and "mark.slow" in ast.unparse(node)}

        def is_slow(decorators, helpers=helpers):
            source = " ".join(ast.unparse(d) for d in decorators)
            return "mark.slow" in source or any(re.search(rf"\b{h}\(", source)
                                                for h in helpers)

        for node in tree.body:
            if isinstance(node, ast.Assign) and "pytestmark" in ast.unparse(node) \
                    and "slow" in ast.unparse(node.value):
                found.add(name)
            if isinstance(node, ast.ClassDef):
                if is_slow(node.decorator_list):
                    found.add(f"{name}::{node.name}")
                found.update(f"{name}::{node.name}::{f.name}" for f in node.body
                             if isinstance(f, ast.FunctionDef) and is_slow(f.decorator_list))
            elif isinstance(node, ast.FunctionDef) and is_slow(node.decorator_list):
                found.add(f"{name}::{node.name}")
    return found
