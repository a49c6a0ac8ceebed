"""``summary.json`` plus PNG figures -> one self-contained ``report.html``.

The page opens with the headline (the verdict of the main run: status, model and recipe, data,
time, epochs and why they stopped, quality first -> best), then one section per part of the run:
figures at their natural width (never wider than the page) with a caption saying what to look
for, sample grids of a few epochs side by side, small tables with rounded numbers. Images are
embedded as base64 PNG (plots re-encoded with a 256-colour palette to keep the page light); the
raw numbers stay in ``summary.json``, linked from the page.
"""

from __future__ import annotations

import base64
import html
import io
import os

from tfgenopt._io import atomic_write_text
from tfgenopt.report._summary import read_summary, write_summary
from tfgenopt.report.verdict import fmt, verdict

__all__ = ["build_report", "write_report"]

CSS = """*{box-sizing:border-box}body{font:15px/1.45 system-ui,sans-serif;max-width:1200px;
margin:0 auto;padding:12px 24px 48px;color:#1d1d1f;overflow-wrap:break-word}
h1{font-size:23px;margin:4px 0 8px}h2{font-size:19px;margin:34px 0 6px;border-bottom:1px solid
#ddd;padding-bottom:3px}p{margin:6px 0;max-width:920px}.muted{color:#666;font-size:13px}
.headline{border:1px solid #ccd;border-radius:8px;padding:10px 14px;background:#fafbfd}
.banner{font-size:17px;padding:7px 12px;border-radius:6px;margin-bottom:8px}
.banner b{margin-right:6px}.good{background:#e3f4e6;color:#125a24}
.warn{background:#fff3d6;color:#6b4700}.bad{background:#fde2e1;color:#8a1410}
.hl{display:flex;gap:20px;align-items:flex-start}.facts{flex:1 1 0;min-width:0}
.facts th{width:92px;color:#555;font-weight:500;white-space:nowrap}.facts td{font-size:14px}
.facts .reading{display:block;color:#666;font-size:13px}.pics{display:flex;gap:12px;
flex:0 0 auto}.pics figure{width:200px;margin:0}
table{border-collapse:collapse;margin:6px 0}td,th{border-bottom:1px solid #e6e6e6;
padding:3px 12px 3px 0;text-align:left;vertical-align:top;font-size:14px}th{color:#444}
td.num{font-variant-numeric:tabular-nums;white-space:nowrap}.figs{display:flex;
flex-wrap:wrap;gap:14px 28px}figure{margin:8px 0;max-width:100%}figure img{max-width:100%;
height:auto;display:block}figcaption{font-size:13px;color:#444;margin-top:4px}
.gallery{display:grid;gap:12px;grid-template-columns:repeat(auto-fill,minmax(175px,1fr))}
.gallery figure{margin:0}.gallery img,.pics img{width:100%;image-rendering:pixelated}
.gallery figcaption,.pics figcaption{text-align:center;font-weight:600}
nav{margin:8px 0 0;font-size:13px}"""


def _png(path, pixels=False):
    """``(base64 text, width, height)`` of a PNG; plots are palette-encoded when that is smaller."""
    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        from PIL import Image

        img = Image.open(io.BytesIO(raw))
        size = img.size
        rgb = img.convert("RGB")
        if pixels:  # sample grids: lossless, grey when every pixel is grey
            r, g, b = rgb.split()
            small = rgb.convert("L") if r.tobytes() == g.tobytes() == b.tobytes() else rgb
        else:
            small = rgb.quantize(colors=256)
        buf = io.BytesIO()
        small.save(buf, format="PNG", optimize=True)
        if buf.tell() < len(raw):
            raw = buf.getvalue()
    except Exception:  # noqa: BLE001  (no Pillow or an odd PNG: embed the file as it is)
        size = (None, None)
    return base64.b64encode(raw).decode("ascii"), size[0], size[1]


def _img_tag(run_dir, rel, alt, pixels=False, width=None):
    path = os.path.join(run_dir, rel)
    if not os.path.exists(path):
        return f"<p class='muted'>missing figure: {html.escape(rel)}</p>", None
    data, w, h = _png(path, pixels)
    dims = f' width="{w}" height="{h}"' if w else ""
    style = f' style="width:{width}px"' if width else ""
    return (f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"{dims}{style}>',
            w)


def _figure(run_dir, fig):
    fig = {"path": fig} if isinstance(fig, str) else fig
    caption = fig.get("caption") or os.path.basename(fig["path"])
    tag, w = _img_tag(run_dir, fig["path"], fig.get("alt") or caption)
    style = f' style="max-width:min(100%,{w}px)"' if w else ""
    return f"<figure{style}>{tag}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _gallery(run_dir, items, caption, page=1150, gap=12):
    cells, native = [], 175
    for item in items:
        tag, w = _img_tag(run_dir, item["path"], item.get("label", ""), pixels=True)
        native = w or native
        cells.append(f"<figure>{tag}<figcaption>{html.escape(item.get('label', ''))}"
                     "</figcaption></figure>")
    text = f"<p class='muted'>{html.escape(caption)}</p>" if caption else ""
    n = max(len(items), 1)  # fill the row, at most 2x the grid's own pixels, at least 175 px
    width = int(max(175, min((page - gap * (n - 1)) / n, 2 * native)))
    style = f"grid-template-columns:repeat(auto-fill,minmax({width}px,{width}px))"
    return f"<div class='gallery' style='{style}'>{''.join(cells)}</div>{text}"


def _table(rows, caption=None):
    if not rows:
        return ""
    keys = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in keys)

    def cell(v):
        cls = " class='num'" if isinstance(v, (int, float)) and not isinstance(v, bool) else ""
        return f"<td{cls}>{html.escape(fmt(v) if not isinstance(v, str) else v)}</td>"

    body = "".join("<tr>" + "".join(cell(r.get(k)) for k in keys) + "</tr>" for r in rows)
    cap = f"<p class='muted'>{html.escape(caption)}</p>" if caption else ""
    return f"<table><tr>{head}</tr>{body}</table>{cap}"


def _headline(run_dir, summary):
    run = summary.get("headline")
    if isinstance(summary.get("comparison"), dict):  # tfgenopt compare: the pick, per family
        v = summary["comparison"]
        rows = [("data", summary.get("data"), "")]
    elif not isinstance(run, dict) or "curves" not in run:
        return ""
    else:
        v = verdict(run)
        rows = [("model", run.get("model"),
                 f"recipe: {run['recipe']}" if run.get("recipe") else ""),
                ("data", run.get("data"), "")]
    rows += [(r["label"], r["value"], r["reading"]) for r in v["rows"]]
    body = "".join(f"<tr><th>{html.escape(str(a))}</th><td>{html.escape(str(b))}"
                   f"<span class='reading'>{html.escape(str(c or ''))}</span></td></tr>"
                   for a, b, c in rows if b)
    pics = []
    for item in summary.get("headline_images") or []:
        tag, _ = _img_tag(run_dir, item["path"], item.get("label", ""), pixels=True)
        pics.append(f"<figure>{tag}<figcaption>{html.escape(item.get('label', ''))}"
                    "</figcaption></figure>")
    pics_html = f"<div class='pics'>{''.join(pics)}</div>" if pics else ""
    return (f"<section class='headline' id='headline'><div class='banner {v['status']}'>"
            f"<b>{html.escape(v['title'])}:</b>{html.escape(v['text'])}</div><div class='hl'>"
            f"<table class='facts'>{body}</table>{pics_html}</div></section>")


def build_report(run_dir, title=None):
    """Rebuild ``run_dir/report.html`` from ``summary.json`` and the PNGs listed in it.

    ``summary["headline"]`` (a :func:`tfgenopt.report.run_record`) gives the verdict block at
    the top (or ``summary["comparison"]``, a ready verdict with ``status``, ``title``, ``text``
    and ``rows``, as ``tfgenopt compare`` writes it, with ``summary["data"]``), ``summary["headline_images"]`` (``[{"path", "label"}]``) the pictures beside it;
    ``summary["sections"]`` is a list of ``{"title", "nav" (a short title), "text",
    "figures": [path or {"path", "caption"}], "gallery": [{"path", "label"}], "gallery_caption", "table": [row dicts],
    "table_caption"}``. Paths are relative to ``run_dir``. The other keys of the summary stay
    in ``summary.json``, which the page links to. ``title`` defaults to ``summary["title"]``.

    Returns:
        The path of the report.

    Example:
        >>> _ = write_summary("run", {"sections": [{"title": "Notes", "text": "hello"}]})
        >>> build_report("run")
        'run/report.html'
    """
    summary = read_summary(run_dir)
    title = title or summary.get("title") or "tfgenopt report"
    sections = [s for s in summary.get("sections", []) if isinstance(s, dict)]
    nav = " · ".join(f"<a href='#s{i}'>{html.escape(s.get('nav') or s.get('title', ''))}</a>"
                   for i, s in enumerate(sections))
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             "<meta name='viewport' content='width=device-width, initial-scale=1'>"
             f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
             f"<h1>{html.escape(title)}</h1>", _headline(run_dir, summary),
             f"<nav class='muted'>{nav} · raw numbers (every curve, every probe): "
             "<a href='summary.json'>summary.json</a></nav>"]
    for i, section in enumerate(sections):
        parts.append(f"<h2 id='s{i}'>{html.escape(section.get('title', ''))}</h2>")
        if section.get("text"):
            parts.append(f"<p>{html.escape(section['text'])}</p>")
        if section.get("gallery"):
            parts.append(_gallery(run_dir, section["gallery"], section.get("gallery_caption")))
        figures = section.get("figures") or []
        if figures:
            parts.append("<div class='figs'>" + "".join(_figure(run_dir, f) for f in figures)
                         + "</div>")
        parts.append(_table(section.get("table") or [], section.get("table_caption")))
    parts.append("</body></html>")
    return atomic_write_text(os.path.join(run_dir, "report.html"), "\n".join(parts))


def write_report(run_dir, run, sections=(), headline_images=(), title="tfgenopt report",
                 **extra):
    """Write ``summary.json`` (the run record, the sections and ``extra``) and ``report.html``.

    The one call a training command makes to get the same report as the demo.

    Args:
        run_dir: the run directory (figures' paths in ``sections`` are relative to it).
        run: the run record of the main run (:func:`tfgenopt.report.run_record`).
        sections: report sections (see :func:`build_report`).
        headline_images: ``[{"path", "label"}]`` shown beside the headline (sample grids).
        title: the page title.
        **extra: more JSON-able entries for ``summary.json``.

    Returns:
        The path of ``report.html``.

    Example:
        >>> from tfgenopt.report import run_record
        >>> run = run_record({"loss": [0.7, 0.5], "val_loss": [0.72, 0.55]}, model="autoencoder")
        >>> write_report("run", run, title="autoencoder")
        'run/report.html'
    """
    write_summary(run_dir, {**extra, "title": title, "headline": run,
                            "sections": list(sections), "headline_images": list(headline_images)})
    return build_report(run_dir)
