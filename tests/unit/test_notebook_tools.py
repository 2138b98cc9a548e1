"""The notebook tooling itself, on small course notebooks built in tmp_path.

scripts/notebook_tools.py (nav, contents, exercises, check), scripts/run_notebooks.py
(execution in a fresh kernel), notebooks/sanitize.cfg and notebooks/conftest.py.
The tests that start a Jupyter kernel are marked ``slow``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbval.plugin import get_sanitize_patterns

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import notebook_tools as tools  # noqa: E402
import run_notebooks as runner  # noqa: E402

LINK = re.compile(r"\[([^\]]*)\]\(([^)]+)\)")


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- building a course


def notebook(number: str, title: str, *body, interview=(1,), concepts=("a concept",), minor=5):
    """A course notebook: title cell, then ``body``; ids derived from the number so files are stable."""
    cells = [new_markdown_cell(f"# {number} · {title}\n\nIntro."), *body]
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "esdemo": {"title": title, "concepts": list(concepts), "interview": list(interview)},
        },
    )
    nb.nbformat_minor = minor
    for i, cell in enumerate(nb.cells):
        if minor >= 5:
            cell.id = f"c{number}-{i}"
        else:
            cell.pop("id", None)
    return nb


def solution(source: str, output: str = "42") -> nbformat.NotebookNode:
    return new_code_cell(
        source,
        metadata={"tags": ["solution"]},
        execution_count=1,
        outputs=[new_output("execute_result", {"text/plain": output}, execution_count=1)],
    )


def write_course(root: Path, *notebooks: tuple[str, nbformat.NotebookNode]) -> Path:
    folder = root / "notebooks"
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in notebooks:
        nbformat.write(nb, folder / name)
    return folder


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def links(cell) -> list[str]:
    return [target for _, target in LINK.findall(cell.source)]


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """Three notebooks, 01 with two solution cells each followed by a check cell."""
    write_course(
        tmp_path,
        ("00_start_here.ipynb", notebook("00", "Start here", new_markdown_cell("## Learning goals"))),
        (
            "01_cqrs.ipynb",
            notebook(
                "01",
                "CQRS",
                new_markdown_cell("## Exercises\n\nSee [the store](02_event_store.ipynb) and [docs](https://example.org)."),
                solution("# Exercise 1: add two numbers.\n# Hint: use +.\nanswer = 40 + 2\n# a comment after code\nanswer"),
                new_code_cell("from esdemo.exercises import check_sum\ncheck_sum(answer)", execution_count=2),
                solution("total = sum([1, 2])  # no instructions at all"),
            ),
        ),
        ("02_event_store.ipynb", notebook("02", "Event store", new_code_cell("x = 1", execution_count=1), interview=(2, 5))),
    )
    return tmp_path


# --------------------------------------------------------------------------- nav


def test_generate_adds_nav_cells_after_the_title_and_at_the_end_linking_neighbours(course):
    tools.generate(course)
    folder = course / "notebooks"
    first, middle, last = (read(folder / n) for n in ("00_start_here.ipynb", "01_cqrs.ipynb", "02_event_store.ipynb"))
    for nb in (first, middle, last):
        assert nb.cells[0].source.startswith("# ")
        assert "nav" in nb.cells[1].metadata["tags"] and "nav" in nb.cells[-1].metadata["tags"]
        assert nb.cells[1].source == nb.cells[-1].source
        assert sum("nav" in c.metadata.get("tags", []) for c in nb.cells) == 2
    assert links(first.cells[1]) == ["00_start_here.ipynb", "01_cqrs.ipynb"]  # no previous
    assert links(middle.cells[1]) == ["00_start_here.ipynb", "00_start_here.ipynb", "02_event_store.ipynb"]
    assert links(last.cells[1]) == ["01_cqrs.ipynb", "00_start_here.ipynb"]  # no next
    assert "[← 01 · CQRS](01_cqrs.ipynb)" in last.cells[1].source
    assert "[02 · Event store →](02_event_store.ipynb)" in middle.cells[1].source


def test_stale_nav_cells_are_rewritten_in_place_and_stray_ones_removed(course):
    folder = course / "notebooks"
    nb = read(folder / "02_event_store.ipynb")
    nav = new_markdown_cell("[old link](99_gone.ipynb)", metadata={"tags": ["nav"]})
    nav.id = "hand-made-nav"
    stray = new_markdown_cell("[stray](x.ipynb)", metadata={"tags": ["nav"]})
    stray.id = "stray-nav"
    nb.cells[1:1] = [nav]
    nb.cells.insert(2, stray)  # title, nav, stray, code: no closing nav
    nbformat.write(nb, folder / "02_event_store.ipynb")

    tools.generate(course)

    after = read(folder / "02_event_store.ipynb")
    assert after.cells[1].id == "hand-made-nav"  # the author's cell is kept, its text refreshed
    assert links(after.cells[1]) == ["01_cqrs.ipynb", "00_start_here.ipynb"]
    assert [c.id for c in after.cells if "nav" in c.metadata.get("tags", [])] == ["hand-made-nav", "nav-bottom"]
    assert [c.source for c in after.cells if "nav" not in c.metadata.get("tags", [])] == [
        c.source for c in nb.cells if "nav" not in c.metadata.get("tags", [])
    ]


def test_check_lists_a_stale_nav_and_writes_nothing(course):
    tools.generate(course)
    assert tools.check(course) == []
    # A new notebook arrives: 02 now has a next neighbour, and the contents table a new row.
    write_course(course, ("03_aggregates.ipynb", notebook("03", "Aggregates")))
    before = snapshot(course)

    stale = tools.check(course)

    assert snapshot(course) == before
    assert any(line.startswith("stale: notebooks/02_event_store.ipynb:") and "nav" in line for line in stale)
    assert any(line.startswith("stale: notebooks/03_aggregates.ipynb:") and "nav cell missing" in line for line in stale)
    assert any("00_start_here.ipynb" in line and "contents" in line for line in stale)
    assert not any("01_cqrs" in line for line in stale)  # its neighbours did not change


def test_check_command_exits_1_on_stale_and_0_when_fresh(course, capsys):
    assert tools.main(["--root", str(course), "check"]) == 1
    assert "stale: notebooks/01_cqrs.ipynb" in capsys.readouterr().out
    assert tools.main(["--root", str(course), "generate"]) == 0
    assert tools.main(["--root", str(course), "check"]) == 0


def test_hand_edited_nav_text_is_detected(course):
    tools.generate(course)
    path = course / "notebooks" / "01_cqrs.ipynb"
    nb = read(path)
    nb.cells[-1].source = nb.cells[-1].source.replace("CQRS", "Cqrs") + " · [extra](x.ipynb)"
    nbformat.write(nb, path)
    assert tools.check(course) == ["stale: notebooks/01_cqrs.ipynb: bottom nav cell stale"]


# --------------------------------------------------------------------------- exercises


def test_solution_cells_keep_their_leading_comments_then_an_ellipsis(course):
    tools.generate(course)
    ex = read(course / "notebooks" / "exercises" / "01_cqrs.ipynb")
    exercises = [c for c in ex.cells if "exercise" in c.metadata.get("tags", [])]
    assert [c.source for c in exercises] == ["# Exercise 1: add two numbers.\n# Hint: use +.\n...", "..."]
    assert all(c.cell_type == "code" for c in exercises)
    assert not any("solution" in c.metadata.get("tags", []) for c in ex.cells)
    assert not any("answer = 40 + 2" in c.source or "sum([1, 2])" in c.source for c in ex.cells)


def test_exercise_notebook_keeps_check_cells_clears_outputs_and_links_back(course):
    tools.generate(course)
    ex = read(course / "notebooks" / "exercises" / "01_cqrs.ipynb")
    note = ex.cells[0]
    assert note.cell_type == "markdown" and "Exercise version" in note.source
    assert "../01_cqrs.ipynb" in links(note)
    assert ex.cells[1].source.startswith("# 01 · CQRS")
    assert any(c.source == "from esdemo.exercises import check_sum\ncheck_sum(answer)" for c in ex.cells)
    code = [c for c in ex.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    # Relative links now reach the solved notebooks from exercises/; absolute ones are untouched.
    exercises_md = next(c for c in ex.cells if c.source.startswith("## Exercises"))
    assert links(exercises_md) == ["../02_event_store.ipynb", "https://example.org"]
    assert links(ex.cells[2]) == ["../00_start_here.ipynb", "../00_start_here.ipynb", "../02_event_store.ipynb"]
    nbformat.validate(ex)


def test_only_notebooks_with_solution_cells_get_an_exercise_version(course):
    tools.generate(course)
    assert sorted(p.name for p in (course / "notebooks" / "exercises").iterdir()) == ["01_cqrs.ipynb"]


def test_a_hand_edited_or_orphaned_exercise_notebook_is_stale_and_regenerated(course):
    tools.generate(course)
    exercises = course / "notebooks" / "exercises"
    edited = exercises / "01_cqrs.ipynb"
    good = edited.read_bytes()
    edited.write_text(good.decode().replace("# Hint: use +.", "# Hint: use -."))
    shutil.copy(edited, exercises / "07_gone.ipynb")

    assert sorted(tools.check(course)) == [
        "stale: notebooks/exercises/01_cqrs.ipynb: exercise notebook stale",
        "stale: notebooks/exercises/07_gone.ipynb: orphan: no solved notebook with solution cells",
    ]
    tools.generate(course)
    assert edited.read_bytes() == good
    assert not (exercises / "07_gone.ipynb").exists()


def test_markdown_solution_cells_keep_their_heading_lines():
    assert tools.exercise_source("### Your answer\nBecause events are facts.", "*Your answer here.*") == (
        "### Your answer\n*Your answer here.*"
    )


# --------------------------------------------------------------------------- stability


def test_generation_is_idempotent_and_byte_stable(course):
    first = tools.generate(course)
    assert first.changes
    files = snapshot(course)
    assert all(text.endswith(b"\n") and b'\n "cells": [\n  {\n' in text for name, text in files.items() if name.endswith(".ipynb"))

    again = tools.generate(course)

    assert again.changes == []
    assert snapshot(course) == files
    assert tools.check(course) == []


def test_generated_cells_have_fixed_ids_so_two_fresh_generations_match(course, tmp_path_factory):
    twin = tmp_path_factory.mktemp("twin")
    shutil.copytree(course / "notebooks", twin / "notebooks")
    tools.generate(course)
    tools.generate(twin)
    assert snapshot(course) == snapshot(twin)


def test_notebooks_in_format_4_4_get_nav_cells_without_ids(tmp_path):
    write_course(
        tmp_path,
        ("00_start_here.ipynb", notebook("00", "Start here", minor=4)),
        ("01_cqrs.ipynb", notebook("01", "CQRS", minor=4)),
    )
    tools.generate(tmp_path)
    nb = read(tmp_path / "notebooks" / "01_cqrs.ipynb")
    assert nb.nbformat_minor == 4 and all("id" not in c for c in nb.cells)
    nbformat.validate(nb)


def test_rewritten_files_keep_their_permissions(course):
    path = course / "notebooks" / "01_cqrs.ipynb"
    path.chmod(0o640)
    tools.generate(course)
    assert path.stat().st_mode & 0o777 == 0o640
    created = course / "notebooks" / "exercises" / "01_cqrs.ipynb"
    umask = os.umask(0)
    os.umask(umask)
    assert created.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would make it, not mkstemp's 0600


# --------------------------------------------------------------------------- contents and README


def test_contents_cell_and_readme_get_the_same_table(course):
    folder = course / "notebooks"
    start = read(folder / "00_start_here.ipynb")
    contents = new_markdown_cell("placeholder", metadata={"tags": ["contents"]})
    contents.id = "the-map"
    start.cells.append(contents)
    nbformat.write(start, folder / "00_start_here.ipynb")
    (course / "README.md").write_text("# Course\n\n<!-- contents:start -->\nold\n<!-- contents:end -->\n\nMore.\n")

    tools.generate(course)

    table = next(c for c in read(folder / "00_start_here.ipynb").cells if c.id == "the-map").source
    rows = [line for line in table.splitlines() if line.startswith("| 0")]
    assert rows == [
        "| 00 | [Start here](00_start_here.ipynb) | 5 min | a concept | 1 |",
        "| 01 | [CQRS](01_cqrs.ipynb) | 5 min | a concept | 1 |",
        "| 02 | [Event store](02_event_store.ipynb) | 5 min | a concept | 2, 5 |",
    ]
    readme = (course / "README.md").read_text()
    assert readme.startswith("# Course\n\n<!-- contents:start -->\n") and readme.endswith("<!-- contents:end -->\n\nMore.\n")
    assert "old" not in readme
    assert "| 02 | [Event store](notebooks/02_event_store.ipynb) | 5 min | a concept | 2, 5 |" in readme


def test_a_missing_contents_cell_is_added_before_the_closing_nav(course):
    tools.generate(course)
    cells = read(course / "notebooks" / "00_start_here.ipynb").cells
    assert "contents" in cells[-2].metadata["tags"] and "nav" in cells[-1].metadata["tags"]


def test_table_cells_escape_pipes(tmp_path):
    write_course(tmp_path, ("00_start_here.ipynb", notebook("00", "Reads | writes", concepts=("a|b",))))
    course = tools.load_course(tmp_path / "notebooks")
    assert "| [Reads \\| writes](00_start_here.ipynb) | 5 min | a\\|b |" in tools.contents_table(course)


def test_readme_without_markers_is_left_alone_and_reported(course):
    (course / "README.md").write_text("# Course\n\nNo markers yet.\n")
    result = tools.generate(course)
    assert (course / "README.md").read_text() == "# Course\n\nNo markers yet.\n"
    assert any("README.md" in note and "contents:start" in note for note in result.notes)
    assert not any(c.path.name == "README.md" for c in result.changes)


# --------------------------------------------------------------------------- bad input


def test_bad_metadata_stops_everything_with_one_message_per_problem(course):
    folder = course / "notebooks"
    broken = notebook("03", "Broken")
    del broken.metadata["esdemo"]
    nbformat.write(broken, folder / "03_broken.ipynb")
    worse = notebook("04", "Worse", interview=(7,))
    worse.cells[0].source = "Not a title"
    nbformat.write(worse, folder / "04_worse.ipynb")
    nbformat.write(notebook("05", "Badly named"), folder / "05_Badly Named.ipynb")
    before = snapshot(course)

    with pytest.raises(tools.CourseError) as raised:
        tools.generate(course)

    assert snapshot(course) == before  # nothing half-written
    problems = raised.value.problems
    assert any(p.startswith("03_broken.ipynb: no esdemo metadata") for p in problems)
    assert any(p.startswith("04_worse.ipynb: esdemo.interview") and "7" in p for p in problems)
    assert any(p.startswith("04_worse.ipynb: the first cell") for p in problems)
    assert any(p.startswith("05_Badly Named.ipynb: name must look like") for p in problems)
    assert all(line.startswith("error: ") for line in tools.check(course))


def test_two_notebooks_with_one_number_are_refused(course):
    write_course(course, ("02_duplicate.ipynb", notebook("02", "Duplicate")))
    with pytest.raises(tools.CourseError, match="number 02 is also used by"):
        tools.plan(course)


def test_unknown_part_is_refused(course):
    with pytest.raises(ValueError, match="unknown part"):
        tools.plan(course, parts=("nav", "navs"))


def test_partial_generation_touches_only_its_part(course):
    tools.generate(course, parts=("exercises",))
    assert (course / "notebooks" / "exercises" / "01_cqrs.ipynb").exists()
    assert not any("nav" in c.metadata.get("tags", []) for c in read(course / "notebooks" / "01_cqrs.ipynb").cells)
    # ... and the exercises were already made from the fully generated notebook.
    tools.generate(course, parts=("nav", "contents", "readme"))
    assert tools.check(course) == []


# --------------------------------------------------------------------------- runner helpers (no kernel)


def widget_notebook(slider: str, layout: str) -> nbformat.NotebookNode:
    """A notebook as nbclient leaves it: one slider output, its state, timing metadata; ids as given."""
    return new_notebook(
        cells=[
            new_code_cell(
                "w",
                metadata={"execution": {"iopub.status.idle": "2026-01-01T00:00:00Z"}, "ExecuteTime": {}, "tags": ["x"]},
                outputs=[
                    new_output(
                        "display_data",
                        {runner.WIDGET_VIEW: {"model_id": slider, "version_major": 2}, "text/plain": "IntSlider()"},
                    )
                ],
            )
        ],
        metadata={
            "widgets": {
                runner.WIDGET_STATE: {
                    "state": {  # in creation order, as nbclient records it
                        slider: {"state": {"layout": f"IPY_MODEL_{layout}", "children": [f"IPY_MODEL_{layout}"]}},
                        layout: {"state": {}},
                    }
                }
            }
        },
    )


def test_clean_volatile_strips_timing_and_renumbers_widget_ids_consistently():
    old_slider, old_layout = "a" * 32, "b" * 32
    nb = runner.clean_volatile(widget_notebook(old_slider, old_layout), seed="01_cqrs.ipynb")

    assert nb.cells[0].metadata == {"tags": ["x"]}
    new_slider = nb.cells[0].outputs[0].data[runner.WIDGET_VIEW]["model_id"]
    state = nb.metadata.widgets[runner.WIDGET_STATE]["state"]
    new_layout = next(k for k in state if k != new_slider)
    assert new_slider in state and re.fullmatch(r"[0-9a-f]{32}", new_slider)
    assert state[new_slider]["state"] == {"layout": f"IPY_MODEL_{new_layout}", "children": [f"IPY_MODEL_{new_layout}"]}
    assert old_slider not in str(nb) and old_layout not in str(nb)


def test_widget_ids_depend_only_on_notebook_and_creation_order():
    def slider_id(slider: str, layout: str, seed: str) -> str:
        nb = runner.clean_volatile(widget_notebook(slider, layout), seed=seed)
        return nb.cells[0].outputs[0].data[runner.WIDGET_VIEW]["model_id"]

    first = slider_id("a" * 32, "b" * 32, "01_cqrs.ipynb")
    assert slider_id("c" * 32, "d" * 32, "01_cqrs.ipynb") == first  # a rerun: new random ids, same result
    assert slider_id("c" * 32, "d" * 32, "02_other.ipynb") != first


def test_runner_and_nbval_give_kernels_the_same_environment():
    conftest = _load(ROOT / "notebooks" / "conftest.py", "notebooks_conftest")
    assert conftest.KERNEL_ENV == runner.KERNEL_ENV
    assert conftest.collect_ignore == ["exercises"]


def test_runner_refuses_exercise_notebooks(tmp_path, capsys):
    path = tmp_path / "exercises" / "01_cqrs.ipynb"
    path.parent.mkdir()
    nbformat.write(notebook("01", "CQRS"), path)
    assert runner.main(["--no-generate", str(path)]) == 2
    assert "exercise notebooks are generated unexecuted" in capsys.readouterr().err


# --------------------------------------------------------------------------- sanitize.cfg


@pytest.fixture(scope="module")
def sanitize():
    patterns = get_sanitize_patterns((ROOT / "notebooks" / "sanitize.cfg").read_text())

    def apply(text: str) -> str:
        for regex, replace in patterns:  # exactly what nbval does, in file order
            text = re.sub(regex, replace, text)
        return text

    apply.patterns = patterns
    return apply


def test_sanitize_file_parses_with_nbval_into_compiling_patterns(sanitize):
    assert len(sanitize.patterns) >= 6
    for regex, replace in sanitize.patterns:
        re.compile(regex)
        assert replace and replace == replace.strip()


@pytest.mark.parametrize(
    ("first_run", "second_run"),
    [
        ("UUID('0452783e-e238-47ea-ab52-fcd78795a9aa')", "UUID('9AD94E9D-754C-4075-9297-B029C6F83E9B')"),
        ("<esdemo.store.event_store.EventStore object at 0x7ff0d9b4f390>", "<esdemo.store.event_store.EventStore object at 0x10a2b3c40>"),
        ("[<matplotlib.lines.Line2D at 0x7f8414758fd0>]", "[<matplotlib.lines.Line2D at 0x7f234fc12090>]"),
        ("100%|██████████| 50/50 [00:00<00:00, 6225774.08it/s]", "100%|██████████| 50/50 [00:03<00:00, 14.20it/s]"),
        ("  0%|          | 0/100 [00:00<?, ?it/s]", "  0%|          | 0/100 [01:02:03<?, ?it/s]"),
        ("'/tmp/tmprf4b76ra/events.duckdb'", "'/tmp/tmpnj_dklei/events.duckdb'"),
        (
            "/work/main/.venv/lib/python3.11/site-packages/duckdb/__init__.py:5: DeprecationWarning",
            "/home/ci/esdemo/.venv/lib/python3.12/site-packages/duckdb/__init__.py:5: DeprecationWarning",
        ),
        ("/work/main/esdemo/store.py:42: UserWarning: x", "/home/ci/build/esdemo/store.py:42: UserWarning: x"),
        ("PosixPath('/work/main/notebooks')", "PosixPath('/home/ci/esdemo/notebooks')"),
        ("/work/main/esdemo/store.py:42: UserWarning", "/home/ci/esdemo/esdemo/store.py:42: UserWarning"),
        ("is already open read-write in process 4242.", "is already open read-write in process 77."),
        ('<table id="T_5d0c1"><td id="T_5d0c1_row0_col0">', '<table id="T_a9f03"><td id="T_a9f03_row0_col0">'),
    ],
)
def test_what_varies_between_runs_is_masked(sanitize, first_run, second_run):
    assert first_run != second_run
    assert sanitize(first_run) == sanitize(second_run)


@pytest.mark.parametrize(
    "text",
    [
        "balance 150.00 after 3 events",
        "Order-12345 version 3, position 7",
        "event_id=0452783e, not a whole UUID",
        "0xFF is 255",
        "notebooks/03_event_store.ipynb and data/shop.duckdb",
        "Wrote 10 events in process order",
        "T_abc12345 is not a styler id",
        "[00:00] a log line",
    ],
)
def test_stable_text_is_left_alone(sanitize, text):
    assert sanitize(text) == text


# --------------------------------------------------------------------------- conftest (collection only)


def test_nbval_never_collects_exercise_notebooks(tmp_path):
    folder = tmp_path / "notebooks"
    (folder / "exercises").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "conftest.py", folder)
    nbformat.write(notebook("01", "CQRS", new_code_cell("1 + 1")), folder / "01_cqrs.ipynb")
    nbformat.write(notebook("01", "CQRS", new_code_cell("...")), folder / "exercises" / "01_cqrs.ipynb")

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--collect-only", "-q", "-p", "no:cacheprovider", str(folder)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    collected = [line for line in result.stdout.splitlines() if "::Cell" in line]
    assert len(collected) == 1 and collected[0].endswith("01_cqrs.ipynb::Cell 0"), result.stdout
    assert "exercises" not in result.stdout


# --------------------------------------------------------------------------- with a real kernel


DETERMINISTIC_CELLS = [
    "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(2, 1.5))\nax.plot([1, 2, 3], [3, 1, 2])\nplt.show()",
    "import ipywidgets\nipywidgets.VBox([ipywidgets.IntSlider(value=3), ipywidgets.Button(description='go')])",
    "print(set(f'word{i}' for i in range(20)))",
    "from pathlib import Path\nprint(Path.cwd().name)",
]


@pytest.mark.slow
def test_runner_executes_in_place_reproducibly(tmp_path):
    folder = write_course(
        tmp_path,
        (
            "01_demo.ipynb",
            notebook(
                "01",
                "Demo",
                *(new_code_cell(src) for src in DETERMINISTIC_CELLS),
                new_code_cell("   "),
                new_code_cell("raise KeyError('meant to fail')", metadata={"tags": ["raises-exception"]}),
                new_code_cell("print('after the error')"),
            ),
        ),
    )
    path = folder / "01_demo.ipynb"

    runner.run_notebook(path)
    first = path.read_bytes()
    runner.run_notebook(path)

    assert path.read_bytes() == first  # PNG, widget ids, set order, stream chunks: all stable
    nb = read(path)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert not any("execution" in c.metadata for c in nb.cells)
    figure, widget, words, cwd, failing, after = code
    assert "image/png" in figure.outputs[0].data
    assert widget.outputs[0].data[runner.WIDGET_VIEW]["model_id"] in nb.metadata.widgets[runner.WIDGET_STATE]["state"]
    assert cwd.outputs[0].text == "notebooks\n"
    assert failing.outputs[0].output_type == "error" and failing.outputs[0].ename == "KeyError"
    assert after.outputs[0].text == "after the error\n"
    assert "kernelspec" in nb.metadata and nb.metadata.kernelspec.name == "python3"


@pytest.mark.slow
def test_runner_names_the_failing_cell_and_leaves_the_file_alone(tmp_path):
    folder = write_course(
        tmp_path,
        ("01_demo.ipynb", notebook("01", "Demo", new_code_cell("x = 1"), new_code_cell("1 / 0\nmore = 2"))),
    )
    path = folder / "01_demo.ipynb"
    before = path.read_bytes()

    with pytest.raises(runner.NotebookFailed) as failed:
        runner.run_notebook(path)

    message = str(failed.value)
    assert message.startswith("01_demo.ipynb: cell 2 (nbval \"Cell 1\", starting `1 / 0`)")
    assert "ZeroDivisionError" in message
    assert path.read_bytes() == before


@pytest.mark.slow
def test_runner_fails_a_raises_exception_cell_that_raises_nothing(tmp_path):
    folder = write_course(
        tmp_path,
        ("01_demo.ipynb", notebook("01", "Demo", new_code_cell("'fine'", metadata={"tags": ["raises-exception"]}))),
    )
    with pytest.raises(runner.NotebookFailed, match=r"cell 1 .* tagged raises-exception but raised nothing"):
        runner.run_notebook(folder / "01_demo.ipynb")


@pytest.mark.slow
def test_runner_drops_widget_state_left_by_an_earlier_run(tmp_path):
    stale = notebook("01", "Demo", new_code_cell("print('no widgets any more')"))
    stale.metadata["widgets"] = {runner.WIDGET_STATE: {"state": {"e" * 32: {"state": {}}}}}
    folder = write_course(tmp_path, ("01_demo.ipynb", stale))
    nb = runner.run_notebook(folder / "01_demo.ipynb")
    assert "widgets" not in nb.metadata and "widgets" not in read(folder / "01_demo.ipynb").metadata


@pytest.mark.slow
def test_strict_nbval_passes_on_a_fresh_run_thanks_to_sanitize_and_conftest(tmp_path):
    folder = write_course(
        tmp_path,
        (
            "01_demo.ipynb",
            notebook(
                "01",
                "Demo",
                *(new_code_cell(src) for src in DETERMINISTIC_CELLS),
                new_code_cell("import uuid\nprint(uuid.uuid4())\nobject()"),
                new_code_cell("import tempfile\ntempfile.mkdtemp()"),
                new_code_cell("raise ValueError(f'boom {uuid.uuid4()}')", metadata={"tags": ["raises-exception"]}),
                new_code_cell("# NBVAL_IGNORE_OUTPUT\nimport time\ntime.perf_counter()"),
            ),
        ),
    )
    shutil.copy(ROOT / "notebooks" / "conftest.py", folder)
    runner.run_notebook(folder / "01_demo.ipynb")

    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "--nbval", "--nbval-current-env", "--nbval-sanitize-with", str(ROOT / "notebooks" / "sanitize.cfg"),
            str(folder),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout[-3000:]
    assert "8 passed" in result.stdout


def test_a_saved_progress_bar_shows_where_it_ended_not_its_first_frame():
    """tqdm's text fallback is its repr at creation (0%); the saved widget state says where it ended."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("rebuild(store, projection, progress=True)")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "text/plain": "order_summary:   0%|          | 0/40 [00:00<?, ?events/s]",
        runner.WIDGET_VIEW: {"model_id": "box", "version_major": 2, "version_minor": 0}})]
    nb.cells.append(cell)
    nb.metadata["widgets"] = {runner.WIDGET_STATE: {"state": {
        "box": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_a", "IPY_MODEL_b", "IPY_MODEL_c"]}},
        "a": {"model_name": "HTMLModel", "state": {"value": "order_summary:\u2007100%"}},
        "b": {"model_name": "FloatProgressModel", "state": {"max": 40.0, "value": 40.0}},
        "c": {"model_name": "HTMLModel", "state": {"value": "\u200740/40\u2007[00:00&lt;00:00]"}},
    }}}
    runner.finish_progress_bars(nb)
    assert nb.cells[0].outputs[0].data["text/plain"] == "order_summary: 100%|██████████| 40/40 [00:00<00:00]"


def test_study_time_counts_prose_code_and_exercises_but_not_solutions_or_nav():
    """150 words a minute, 6 s a line of code, 10 min a coded exercise, 7 min a discussion; rounded to 5."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        new_markdown_cell("word " * 1500),                                        # 10 min
        nbformat.v4.new_code_cell("\n".join(["x = 1"] * 100 + ["# a comment"])),  # 10 min
        new_markdown_cell("### Exercise 1: code\n\n### Exercise 2 (discussion)"),  # 10 + 7 min
        new_markdown_cell("word " * 3000, metadata={"tags": ["solution"]}),       # the learner writes it
        new_markdown_cell("word " * 3000, metadata={"tags": ["nav"]}),            # navigation
    ]
    assert tools.study_minutes(nb) == 35   # 10 + 10 + 10 + 7 = 37, to the nearest 5
    nb.cells = nb.cells[:1]
    assert tools.study_minutes(nb) == 10
