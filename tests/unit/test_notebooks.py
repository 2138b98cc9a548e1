"""Static checks over every course notebook, notebooks/NN_*.ipynb, without running it.

nbval (``make notebooks-test``) proves the committed outputs still come out of the
code; these checks prove the notebooks are in a state where that comparison means
something (executed top to bottom, errors only where meant), and that they follow
the course conventions: metadata, title, navigation, sections, exercises, and
generated parts that are up to date. Each failure says what to do about it.
"""

from __future__ import annotations

import re
import sys
from functools import cache
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(ROOT / "scripts"))
import notebook_tools  # noqa: E402

COURSE = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
CONTENTS = "00_start_here.ipynb"
IGNORE_MARKER = "# NBVAL_IGNORE_OUTPUT"
ALL_SECTIONS = ("Learning goals", "Exercises", "Summary", "Interview angle")
SHORT_SECTIONS = ("Learning goals", "Summary")  # for 00 (start here) and the last one (interview prep)
LINK = re.compile(r"\[((?:\\.|[^\]\\])*)\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
REFRESH = "re-run it with `make notebooks` (or scripts/run_notebooks.py <path>)"

per_notebook = pytest.mark.parametrize("path", COURSE, ids=[p.name for p in COURSE])


@cache
def load(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def title(path: Path) -> str:
    return load(path).metadata.get("esdemo", {}).get("title", "<no esdemo.title>")


def number(path: Path) -> int:
    return int(path.name[:2])


LAST = number(next((p for p in COURSE if p.name.endswith("_interview_prep.ipynb")), COURSE[-1]))  # interview prep (last once renumbered)


def code_cells(nb) -> list[tuple[int, nbformat.NotebookNode]]:
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def headings(nb) -> list[str]:
    """Every markdown heading's text, lower-cased, without a leading section number ("3. ")."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        fenced = False
        for line in cell.source.splitlines():
            if line.lstrip().startswith(("```", "~~~")):
                fenced = not fenced
            match = None if fenced else HEADING.match(line)
            if match:
                found.append(re.sub(r"^\d+[.)]\s*", "", match.group(1)).strip().lower())
    return found


def has_section(found: list[str], name: str) -> bool:
    name = name.lower()
    return any(h == name or (h.startswith(name) and not h[len(name)].isalpha()) for h in found)


# --------------------------------------------------------------------------- the course as a whole


def test_the_first_notebooks_exist():
    missing = [name for name in (CONTENTS, "03_event_store.ipynb") if not (NOTEBOOKS / name).exists()]
    assert not missing, f"missing course notebooks: {missing}"


def test_generated_nav_contents_and_exercises_are_up_to_date():
    stale = notebook_tools.check(ROOT)
    assert not stale, "\n".join(stale) + "\nrefresh with: make exercises  (scripts/notebook_tools.py generate)"


# --------------------------------------------------------------------------- each notebook


@per_notebook
def test_kernelspec_is_python3(path):
    assert load(path).metadata.get("kernelspec", {}).get("name") == "python3", (
        f"{path.name}: set metadata.kernelspec.name to 'python3' (Kernel › Change kernel › Python 3)"
    )


@per_notebook
def test_executed_top_to_bottom_in_one_fresh_kernel(path):
    counts = [c.execution_count for _, c in code_cells(load(path))]
    empty = [i for i, c in code_cells(load(path)) if not c.source.strip()]
    assert not empty, f"{path.name}: empty code cells {empty} are never executed; delete them"
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts are {counts}, not 1..{len(counts)} in order; {REFRESH}"
    )


@per_notebook
def test_errors_appear_only_in_raises_exception_cells(path):
    unexpected = [
        f"cell {i}: {o.ename}: {o.evalue}"
        for i, cell in code_cells(load(path))
        for o in cell.outputs
        if o.output_type == "error" and "raises-exception" not in tags(cell)
    ]
    assert not unexpected, f"{path.name}: errors in cells not tagged raises-exception: {unexpected}"


@per_notebook
def test_raises_exception_cells_do_raise(path):
    silent = [
        i
        for i, cell in code_cells(load(path))
        if "raises-exception" in tags(cell) and not any(o.output_type == "error" for o in cell.outputs)
    ]
    assert not silent, f"{path.name}: cells {silent} are tagged raises-exception but show no error; {REFRESH}"


@per_notebook
def test_esdemo_metadata_has_title_concepts_and_interview_questions(path):
    meta = load(path).metadata.get("esdemo")
    assert isinstance(meta, dict), f"{path.name}: add 'esdemo' to the notebook metadata"
    assert isinstance(meta.get("title"), str) and meta["title"].strip(), f"{path.name}: esdemo.title must be text"
    concepts = meta.get("concepts")
    assert isinstance(concepts, list) and concepts and all(isinstance(c, str) and c.strip() for c in concepts), (
        f"{path.name}: esdemo.concepts must be a non-empty list of strings"
    )
    interview = meta.get("interview")
    assert isinstance(interview, list) and all(type(q) is int and 1 <= q <= 6 for q in interview), (
        f"{path.name}: esdemo.interview must list interview question numbers 1-6, found {interview!r}"
    )
    assert len(set(interview)) == len(interview), f"{path.name}: esdemo.interview repeats a question"


@per_notebook
def test_first_cell_is_the_numbered_title(path):
    nb = load(path)
    first = nb.cells[0] if nb.cells else None
    expected = f"# {path.name[:2]} · {title(path)}"
    assert first is not None and first.cell_type == "markdown", f"{path.name}: the first cell must be markdown"
    assert first.source.splitlines()[0] == expected, f"{path.name}: the first line must be {expected!r}"


@per_notebook
def test_nav_cells_link_previous_contents_and_next(path):
    nb, index = load(path), COURSE.index(path)
    nav = [i for i, c in enumerate(nb.cells) if "nav" in tags(c)]
    assert nav == [1, len(nb.cells) - 1], (
        f"{path.name}: nav cells are at {nav}; expected one right after the title (1) and the last cell "
        f"({len(nb.cells) - 1}); run `make exercises`"
    )
    expected = []
    if index > 0:
        before = COURSE[index - 1]
        expected.append((f"← {before.name[:2]} · {title(before)}", before.name))
    if (NOTEBOOKS / CONTENTS).exists():
        expected.append(("Contents", CONTENTS))
    if index + 1 < len(COURSE):
        after = COURSE[index + 1]
        expected.append((f"{after.name[:2]} · {title(after)} →", after.name))
    for i in nav:
        assert nb.cells[i].cell_type == "markdown", f"{path.name}: nav cell {i} must be markdown"
        found = [(re.sub(r"\\(.)", r"\1", text), target) for text, target in LINK.findall(nb.cells[i].source)]
        assert found == expected, f"{path.name}: nav cell {i} links {found}, expected {expected}"


@per_notebook
def test_has_the_course_sections(path):
    required = SHORT_SECTIONS if number(path) in (0, LAST) else ALL_SECTIONS
    found = headings(load(path))
    missing = [name for name in required if not has_section(found, name)]
    assert not missing, f"{path.name}: add markdown headings for {missing} (found {found})"


@per_notebook
def test_lessons_have_at_least_two_solution_cells(path):
    if not 1 <= number(path) < LAST:
        pytest.skip("start here and interview prep (the last notebook) carry no exercises")
    solutions = [i for i, c in enumerate(load(path).cells) if "solution" in tags(c)]
    assert len(solutions) >= 2, f"{path.name}: tag at least two exercise answers 'solution' (found cells {solutions})"


@per_notebook
def test_nbval_ignore_output_only_as_the_exact_first_line(path):
    misplaced = []
    for i, cell in code_cells(load(path)):
        for n, line in enumerate(cell.source.splitlines()):
            if "NBVAL_IGNORE_OUTPUT" in line and (n, line) != (0, IGNORE_MARKER):
                misplaced.append(f"cell {i} line {n + 1}: {line.strip()!r}")
        if "nbval-ignore-output" in tags(cell):
            misplaced.append(f"cell {i}: tag nbval-ignore-output (use the first-line comment instead)")
    assert not misplaced, (
        f"{path.name}: nbval honours the marker on any line, so it must be exactly "
        f"{IGNORE_MARKER!r} as the first line, where a reader sees it: {misplaced}"
    )


@per_notebook
def test_figures_are_png_not_svg(path):
    # nbval skips image/png but compares image/svg+xml as text, and matplotlib's SVG carries random ids.
    svg = [
        i
        for i, cell in code_cells(load(path))
        for o in cell.outputs
        if "matplotlib" in str(o.get("data", {}).get("image/svg+xml", ""))
    ]
    assert not svg, f"{path.name}: cells {svg} show matplotlib SVG; keep the default PNG figure format"


def bare_dollars(source: str) -> list[str]:
    """Dollar signs JupyterLab would read as maths delimiters, outside code spans and fences.

    JupyterLab typesets text between two dollar signs as LaTeX, even when they are
    written with one backslash or as an HTML entity (checked in Chromium with
    JupyterLab 4.6); only two backslashes before the sign show a literal dollar.
    So "$0 + $200" renders as a formula.
    """
    text = re.sub(r"(```|~~~).*?\1", "", source, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    hits = []
    for match in re.finditer(r"&#36;|&dollar;|\$", text):
        before = text[max(0, match.start() - 2):match.start()]
        if match.group(0) == "$" and before == "\\\\":
            continue
        hits.append(("\\" if before.endswith("\\") else "") + match.group(0))
    return hits


def test_bare_dollars_finds_what_jupyterlab_would_typeset():
    assert bare_dollars("opened with $0, $200 in") == ["$", "$"]
    assert bare_dollars(r"opened with \$0 and &#36;200") == [r"\$", "&#36;"]
    assert bare_dollars(r"opened with \\$0, \\$200, `$50` and" + "\n```\n$x$\n```") == []


@per_notebook
def test_dollar_signs_render_as_dollars_in_jupyterlab(path):
    found = [(i, bare_dollars(cell.source)) for i, cell in enumerate(load(path).cells) if cell.cell_type == "markdown"]
    found = [(i, hits) for i, hits in found if hits]
    assert not found, (
        f"{path.name}: markdown cells {[i for i, _ in found]} have dollar signs JupyterLab reads as maths; "
        r"write them as \\$ (two backslashes) or inside `code`"
    )


@per_notebook
def test_every_discussion_exercise_has_a_collapsed_model_answer(path):
    """A discussion exercise is followed by a markdown `solution` cell holding a model answer in <details>,
    so the solved notebook has it (collapsed) and the exercise version does not."""
    cells = load(path).cells
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown" or not re.search(r"^### Exercise \d+ \((?:design )?discussion\)", cell.source, re.M):
            continue
        answer = cells[i + 1] if i + 1 < len(cells) else None
        assert answer is not None and answer.cell_type == "markdown" and "solution" in tags(answer), (
            f"{path.name}: the discussion exercise in cell {i} needs a model answer right after it "
            "(a markdown cell tagged 'solution')")
        assert answer.source.lstrip().startswith("<details>") and "</details>" in answer.source, (
            f"{path.name}: wrap the model answer in cell {i + 1} in <details><summary>...</summary> ... </details>")


def test_the_instructor_guide_covers_every_notebook_and_links_only_real_ones():
    guide = (NOTEBOOKS / "INSTRUCTOR_GUIDE.md").read_text()
    targets = {target.split("#")[0] for _, target in LINK.findall(guide) if target.endswith(".ipynb")}
    missing = sorted(p.name for p in COURSE if p.name not in targets)
    assert not missing, f"INSTRUCTOR_GUIDE.md says nothing about {missing}"
    broken = sorted(t for t in targets if not (NOTEBOOKS / t).exists())
    assert not broken, f"INSTRUCTOR_GUIDE.md links notebooks that do not exist: {broken}"
    for path in COURSE:
        assert f"({path.name})" in guide.split("## Notebook by notebook", 1)[1], (
            f"INSTRUCTOR_GUIDE.md: add a section for {path.name} under 'Notebook by notebook'")
