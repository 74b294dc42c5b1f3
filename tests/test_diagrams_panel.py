"""The notebook-02 panel, headless: controls, Run, memory and one-line errors."""

import html

from widenets_nb.correlators import NAMED, parse
from widenets_nb.diagrams import leading_diagrams
from widenets_nb.diagrams.figures import diagram_figure
from widenets_nb.diagrams.panel import diagram_panel


def _xs(panel):
    return [tuple(t.x) for t in panel.figure.data]


def test_diagram_panel_steps_through_the_diagrams():
    panel = diagram_panel("table1.row5", 2)
    assert "diagram 1 of 6" in panel.status.value
    assert panel.controls["number"].max == 6
    first = _xs(panel)
    panel.controls["number"].value = 4
    assert "diagram 4 of 6" in panel.status.value
    assert _xs(panel) != first
    c = parse(NAMED["table1.row5"])
    g = leading_diagrams(c, 2, limit=6)[0][3]
    expected = diagram_figure(g, [f.text for f in c.factors])
    assert len(panel.figure.data) == len(expected.data)  # the old traces are gone
    assert panel.figure.layout.title.text == expected.layout.title.text
    panel.controls["spec"].value = "f1 f2 f3 f4"
    assert panel.controls["number"].max == 27


def test_run_answers_a_repeat_from_memory():
    panel = diagram_panel("table1.row5", 2)
    panel.controls["number"].value = 2
    second = _xs(panel)
    calls = []
    compute = panel.compute
    panel.compute = lambda **v: calls.append(v) or compute(**v)
    panel.controls["number"].value = 1
    panel.controls["number"].value = 2
    panel.button.click()
    assert len(calls) == 0 and _xs(panel) == second
    panel.controls["depth"].value = 3
    assert len(calls) == 1 and "of 72" in panel.status.value


def test_bad_or_vanishing_correlators_show_one_line():
    panel = diagram_panel("table1.row5", 2)
    before = _xs(panel)
    panel.controls["spec"].value = "f1 g2"
    text = html.unescape(panel.status.value)
    assert text.count("bad correlator at position 3: unexpected 'g'") == 1
    assert "\n" not in text and "Traceback" not in text and "^" not in text
    assert _xs(panel) == before  # the last good figure stays
    panel.controls["spec"].value = "f1 f2 f3"
    assert "vanishes identically" in panel.status.value
    panel.button.click()
    assert "vanishes identically" in panel.status.value
