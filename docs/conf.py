"""Sphinx configuration of the widenets documentation site (``make docs``).

Everything the pages need comes from installed packages; nothing is fetched at build or
at view time:

- the theme (furo) and myst-nb's assets are Python packages;
- plotly.js is copied from the installed ``plotly`` package into ``_static/`` and loaded in
  the head of the pages that draw a figure (``_templates/base.html``); the rendered
  notebooks hold figures without plotly.js (``scripts/render_notebooks.py``);
- MathJax 3 (the ``tex-chtml`` component, its fonts and TeX extensions) is copied from the
  ``sphinx-mathjax-offline`` package.

The notebooks are the executed copies in ``docs/notebooks/`` (rendered by
``scripts/render_notebooks.py``, not committed); nothing is executed here.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import re
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO_ROOT = DOCS.parent
sys.path.insert(0, str(REPO_ROOT))

from widenets_nb import __version__  # noqa: E402

project = "widenets"
author = "widenets authors"
copyright = "widenets authors (MIT license)"
version = release = __version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
exclude_patterns = ["_build", "screenshots", "**.ipynb_checkpoints"]
templates_path = ["_templates"]

# --- API reference ----------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "show-inheritance": True, "ignore-module-all": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_class_signature = "separated"
add_module_names = False

# --- notebooks: rendered as committed, never executed -------------------------------------
nb_execution_mode = "off"
nb_ipywidgets_js = {}  # the rendered notebooks hold no widget views (static copies)
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
# MathJax typesets the math nodes and, in notebook outputs, the $$...$$ of the panels' HTML.
myst_mathjax_classes = "tex2jax_process|mathjax_process|math|output_area|text_html"
suppress_warnings = ["myst.header"]

# --- HTML ---------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"widenets {__version__}"
html_static_path = ["_static"]
html_css_files = ["widenets.css"]
mathjax_path = "mathjax/tex-chtml.js"
html_show_sourcelink = False
html_copy_source = False

MATHJAX_PARTS = ("tex-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions")


def _plotly_js() -> Path:
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise RuntimeError(f"plotly.min.js is missing from the plotly package at {path}; "
                           "reinstall plotly (pip install --force-reinstall plotly).")
    return path


def _mathjax_dir() -> Path:
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        raise RuntimeError("MathJax for the site comes from the sphinx-mathjax-offline "
                           "package; install the docs extra: pip install -e '.[docs]'.")
    return Path(spec.origin).parent / "static" / "mathjax"


def _copy_assets(app, exception) -> None:
    """Put plotly.js and the MathJax parts under ``_static/`` of the built site."""
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    shutil.copy2(_plotly_js(), static / "plotly.min.js")
    source = _mathjax_dir()
    for part in MATHJAX_PARTS:
        src, dst = source / part, static / "mathjax" / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)


def _check_assets(app) -> None:
    """Fail at the start of a build (not after it) when an asset is missing."""
    _plotly_js()
    _mathjax_dir()


# What a docstring cites from the paper: a kind and a number ("eq. 11", "Fig. 9a",
# "Thm 10", "App. E.3"); ranges and lists count by their first item.
PAPER_KINDS = {"eq": "eq.", "eqs": "eq.", "Eq": "eq.", "Eqs": "eq.", "Table": "Table",
               "Tables": "Table", "Fig": "Fig.", "Figs": "Fig.", "Figure": "Fig.",
               "Sec": "Sec.", "App": "App.", "Appendix": "App.", "Thm": "Theorem",
               "Theorem": "Theorem", "Lemma": "Lemma", "Conjecture": "Conjecture"}
PAPER_REFERENCE = re.compile(r"\b(" + "|".join(sorted(PAPER_KINDS, key=len, reverse=True))
                             + r")\.?\s*([A-E](?:\.\d+)?|\d+(?:\.\d+)?[a-z]?)\b")
PAPER_MAP = DOCS / "api" / "generated" / "paper_map.md"


def _natural(text: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def paper_references() -> dict[str, list[str]]:
    """``"eq. 11"`` -> the modules and public functions and classes of ``widenets_nb`` whose
    docstring cites it (full dotted names)."""
    import widenets_nb

    found: dict[str, set[str]] = {}
    for info in pkgutil.walk_packages(widenets_nb.__path__, "widenets_nb."):
        if info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        module = importlib.import_module(info.name)
        for kind, number in PAPER_REFERENCE.findall(module.__doc__ or ""):
            found.setdefault(f"{PAPER_KINDS[kind]} {number}", set()).add(module.__name__)
        for name, obj in vars(module).items():
            if (name.startswith("_") or getattr(obj, "__module__", None) != module.__name__
                    or not (inspect.isfunction(obj) or inspect.isclass(obj))):
                continue
            for kind, number in PAPER_REFERENCE.findall(inspect.getdoc(obj) or ""):
                found.setdefault(f"{PAPER_KINDS[kind]} {number}", set()).add(
                    f"{module.__name__}.{name}")
    order = list(dict.fromkeys(PAPER_KINDS.values()))
    keys = sorted(found, key=lambda k: (order.index(k.split()[0]), _natural(k)))
    return {key: sorted(found[key]) for key in keys}


def _write_paper_map(app) -> None:
    """``api/generated/paper_map.md``: each equation, table, figure, theorem... of the paper
    cited by a docstring, with the code that cites it."""
    lines = ["# From the paper to the code", "",
             "Every equation, table, figure, theorem, lemma, conjecture, section and appendix "
             "of Dyer & Gur-Ari (ICLR 2020) that a docstring of `widenets_nb` names, with the "
             "modules, functions and classes that name it (collected from the docstrings at build "
             "time).", "", "| paper | code |", "|---|---|"]
    for ref, names in paper_references().items():
        code = ", ".join(f"{{py:obj}}`{name.removeprefix('widenets_nb.')} <{name}>`"
                         for name in names)
        lines.append(f"| {ref} | {code} |")
    text = "\n".join(lines) + "\n"
    PAPER_MAP.parent.mkdir(parents=True, exist_ok=True)
    if not PAPER_MAP.is_file() or PAPER_MAP.read_text() != text:
        PAPER_MAP.write_text(text)


def setup(app) -> None:
    app.connect("builder-inited", _write_paper_map)
    app.connect("builder-inited", _check_assets)
    app.connect("build-finished", _copy_assets)
