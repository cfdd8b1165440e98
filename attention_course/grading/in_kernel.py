"""Runs one exercise's check inside a learner's kernel, from a private copy of the course's checks.

The grader does not run this module itself: it sends its source, read once before grading starts, with a
REQUEST, to the kernel that has just run the learner's cells up to that exercise. The check module is compiled
from the source the grader read before any learner code ran, under a new random package name, and
loaded by a finder of its own rather than from disk. So a submission that rebinds `checks`, replaces
functions in `attention_course.checks`, patches its `core`, or edits the files on disk does not change the
check that grades it. The checks' imports from the rest of the package (e.g. `..multihead`) are the
kernel's own modules, so the learner's objects are of the classes the checks expect.

This defends the grade against tampering with the checks; it is not a sandbox. The learner's code runs
in this process with the grader's rights. Introduced for instructors (the grader).
"""

MIME = "application/vnd.attention-course.grade+json"


def main(request: dict) -> None:
    import sys

    from IPython import get_ipython
    from IPython.display import display

    created: list[str] = []
    try:
        payload = _grade(request, get_ipython().user_ns, created)
    except KeyboardInterrupt:
        raise  # the grader's timeout: let the interrupt end the cell
    except BaseException as error:  # noqa: BLE001 - whatever breaks, the grader gets one sentence
        payload = {"status": "error", "message": f"the check could not run: {type(error).__name__}: "
                                                 f"{_short(error)}"}
    finally:
        for name in created:
            sys.modules.pop(name, None)
    payload["nonce"] = request["nonce"]
    display({MIME: payload}, raw=True)


def _grade(request: dict, user_ns: dict, created: list[str]) -> dict:
    import difflib

    module, core = _load(request, created)
    check = getattr(module, request["check"])
    function = request["function"]
    if function not in user_ns:
        learner_names = [name for name, value in list(user_ns.items())
                         if callable(value) and not name.startswith("_") and name not in request["others"]
                         and getattr(value, "__module__", "") == "__main__"]
        return {"status": "missing", "similar": difflib.get_close_matches(function, learner_names, n=3, cutoff=0.7)}
    try:
        result = check(user_ns[function])
    except core.CheckFailed as failure:
        return {"status": "failed", "message": str(failure)}
    except SystemExit:
        return {"status": "error", "message": f"your {function} called sys.exit() while it was being checked."}
    if not isinstance(result, core.CheckResult):
        return {"status": "error", "message": "the check returned no result."}
    return {"status": result.status, "message": result.message}


def _load(request: dict, created: list[str]):
    """Import `<private>.checks.<module>` from the grader's sources; return it and its private `core`."""
    import importlib
    import importlib.abc
    import importlib.util
    import sys
    import types

    private, sources = request["package"], request["sources"]  # sources: "checks.core" -> (path, text)

    class Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, fullname, path=None, target=None):
            key = fullname[len(private) + 1:] if fullname.startswith(private + ".") else None
            if key == "checks":
                return importlib.util.spec_from_loader(fullname, self, is_package=True)
            if key in sources:
                return importlib.util.spec_from_loader(fullname, self, origin=sources[key][0])
            return None

        def create_module(self, spec):
            return None

        def exec_module(self, module):
            created.append(module.__name__)
            key = module.__name__[len(private) + 1:]
            if key == "checks":
                module.__path__ = []  # nothing of it is found on disk
                return
            path, text = sources[key]
            exec(compile(text, path, "exec"), module.__dict__)  # noqa: S102 - the checks' own source, read by the grader

    parent = types.ModuleType(private)
    parent.__path__ = []
    sys.modules[private] = parent
    created.append(private)
    for name in request["aliases"]:  # the rest of the package, as the learner's kernel has it
        real = importlib.import_module(f"attention_course.{name}")
        sys.modules[f"{private}.{name}"] = real
        created.append(f"{private}.{name}")
        setattr(parent, name, real)
    finder = Finder()
    sys.meta_path.insert(0, finder)
    try:
        module = importlib.import_module(f"{private}.checks.{request['module']}")
        core = importlib.import_module(f"{private}.checks.core")
    finally:
        sys.meta_path.remove(finder)
    return module, core


def _short(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 200 else text[:200] + "..."


if __name__ == "__attention_course_grader__":
    main(globals()["REQUEST"])
