"""Reading a submitted notebook, finding its lesson, naming tampering, and planning where each check runs.

Introduced for instructors (the grader).
"""

from __future__ import annotations

import ast
import functools
import json
import re
from dataclasses import dataclass

import nbformat

from .model import AnswerKey, GradedExercise

MAX_SUBMISSION_BYTES = 50 * 2**20
ONLY_CHECK_CALLS = re.compile(r"^\s*checks\.\w+\(.*\)\s*$")


# ---------------------------------------------------------------- reading a submission


@dataclass(frozen=True)
class Cell:
    number: int  # 1-based position among all the notebook's cells, as an instructor counts them
    source: str


def read_submission(data: bytes) -> tuple[list[Cell], list[str], str | None]:
    """(code cells, markdown texts, problem): a problem is one sentence, and then there are no cells."""
    if len(data) > MAX_SUBMISSION_BYTES:
        return [], [], (f"The file is {len(data) / 2**20:.0f} MB; a notebook is not graded above "
                        f"{MAX_SUBMISSION_BYTES // 2**20} MB.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [], [], "The file is not text (not UTF-8), so it is not a Jupyter notebook."
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        return [], [], (f"The file is not valid JSON ({error.msg}: line {error.lineno}, column {error.colno}); "
                        "it may have been cut short or edited by hand.")
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", raw.get("worksheets")), list):
        return [], [], "The file is JSON but not a Jupyter notebook (it has no list of cells)."
    if "worksheets" in raw:  # nbformat 3: let nbformat convert it
        try:
            raw = nbformat.reads(text, as_version=4)
        except Exception as error:  # noqa: BLE001 - any conversion failure becomes one sentence
            return [], [], f"The file is an old-format notebook that could not be read ({type(error).__name__})."
    code, markdown = [], []
    for number, cell in enumerate(raw.get("cells", []), start=1):
        if not isinstance(cell, dict):
            continue
        source = cell.get("source", "")
        source = "".join(part for part in source if isinstance(part, str)) if isinstance(source, list) else source
        if not isinstance(source, str):
            continue
        if cell.get("cell_type") == "code":
            code.append(Cell(number, source))
        elif cell.get("cell_type") == "markdown":
            markdown.append(source)
    return code, markdown, None


def _python(source: str) -> str:
    """A cell's source as plain Python (IPython magics turned into calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


@functools.lru_cache(maxsize=4096)  # the plan asks about every cell for every exercise
def bound_names(source: str) -> frozenset[str]:
    """Names a cell binds at top level with def, class or =; by pattern when the cell does not parse."""
    try:
        tree = ast.parse(_python(source))
    except (SyntaxError, ValueError):
        found = re.findall(r"^(?:async\s+def|def|class)\s+(\w+)|^(\w+)\s*=", source, re.MULTILINE)
        return frozenset(a or b for a, b in found)
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return frozenset(names)


def _calls_check(source: str, check: str) -> bool:
    return re.search(rf"^\s*checks\.{re.escape(check)}\s*\(", source, re.MULTILINE) is not None


def _only_check_calls(source: str) -> bool:
    lines = [line for line in source.split("\n") if line.strip() and not line.strip().startswith("#")]
    return bool(lines) and all(ONLY_CHECK_CALLS.match(line) for line in lines)


def identify(cells: list[Cell], markdown: list[str], keys: dict[int, AnswerKey]) -> dict[int, int]:
    """How strongly the notebook looks like each lesson: its exercises defined or checked, its banner."""
    defined = frozenset().union(*(bound_names(cell.source) for cell in cells))
    scores = {}
    for lesson, key in keys.items():
        score = sum(1 for e in key.exercises
                    if e.function in defined or any(_calls_check(c.source, e.check) for c in cells))
        if any(f"`{key.stem}`" in text for text in markdown):
            score += 3
        scores[lesson] = score
    return scores


def best_match(scores: dict[int, int]) -> int | None:
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    if not ranked or ranked[0][1] == 0 or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return None
    return ranked[0][0]


TAMPERING = [
    (re.compile(r"\bsys\.modules\b"), "sys.modules"), (re.compile(r"\bmeta_path\b"), "sys.meta_path"),
    (re.compile(r"\binput_transformers"), "IPython's input transformers"),
    (re.compile(r"\bbuiltins\b"), "builtins"), (re.compile(r"\bimportlib\.reload\b"), "importlib.reload"),
    (re.compile(r"\bevents\.register\b"), "IPython's events"),
]


def tampering(cells: list[Cell]) -> list[str]:
    """Sentences for cells that change the checks or the machinery around them (for a human to read)."""
    found, trees = [], []
    for cell in cells:
        try:
            trees.append(ast.parse(_python(cell.source)))
        except (SyntaxError, ValueError):
            trees.append(None)
    watched = {"checks", "attention_course"}  # and whatever names the notebook gives them
    for tree in filter(None, trees):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                watched.update(a.asname for a in node.names if a.asname and a.name.startswith("attention_course"))
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("attention_course"):
                watched.update(a.asname or a.name for a in node.names
                               if a.name == "checks" or (node.module or "").startswith("attention_course.checks"))
    for cell, tree in zip(cells, trees):
        changed = set()
        for node in ast.walk(tree) if tree else []:
            targets = []
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
                targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                changed.update({node.name} & {"checks", "attention_course"})
            elif isinstance(node, ast.Import):  # `import x as checks`; `import attention_course` is fine
                changed.update(a.asname for a in node.names if a.asname in ("checks", "attention_course"))
            elif isinstance(node, ast.ImportFrom) and node.module != "attention_course":
                changed.update(a.asname or a.name for a in node.names
                               if (a.asname or a.name) in ("checks", "attention_course"))
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id in ("setattr", "delattr") and node.args):
                targets = [node.args[0]]
            for target in targets:
                root = target
                while isinstance(root, (ast.Attribute, ast.Subscript)):
                    root = root.value
                if isinstance(root, ast.Name) and root.id in watched and not (
                        isinstance(target, ast.Name) and isinstance(node, (ast.Assign, ast.AnnAssign))
                        and target.id not in ("checks", "attention_course")):
                    changed.add(ast.unparse(target))
        for name in sorted(changed):
            found.append(f"Cell {cell.number} changes `{name}`; it has no effect on the grade, since the grader "
                         "runs the checks of the installed course package.")
        for pattern, what in TAMPERING:
            if pattern.search(cell.source):
                found.append(f"Cell {cell.number} touches {what}, which can interfere with grading; read it "
                             "before trusting this grade.")
    return found


# ---------------------------------------------------------------- what runs, in which order


@dataclass(frozen=True)
class Step:
    source: str
    cell: Cell | None = None  # a learner cell
    exercise: GradedExercise | None = None  # a check, run by the grader


def plan(cells: list[Cell], key: AnswerKey) -> list[Step]:
    """The learner's cells in order, minus their own check calls, with each exercise's check placed after
    the later of its check cell and the last cell that defines its function (the end, if neither)."""
    anchors: dict[int, list[GradedExercise]] = {}
    unanchored = []
    for exercise in key.exercises:
        places = [i for i, cell in enumerate(cells)
                  if _calls_check(cell.source, exercise.check) or exercise.function in bound_names(cell.source)]
        if places:
            anchors.setdefault(max(places), []).append(exercise)
        else:
            unanchored.append(exercise)
    steps = []
    for i, cell in enumerate(cells):
        if not _only_check_calls(cell.source) and cell.source.strip():
            steps.append(Step(cell.source, cell=cell))
        steps.extend(Step("", exercise=exercise) for exercise in anchors.get(i, []))
    steps.extend(Step("", exercise=exercise) for exercise in unanchored)
    return steps
