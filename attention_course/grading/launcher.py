"""Starts the kernel that runs one submission for the grader, under a memory limit.

    python -m attention_course.grading.launcher [--memory-mb N] -f CONNECTION_FILE

The grader (attention_course.grading) names this module in its kernel command. It lowers the address-space
limit (RLIMIT_AS) of the kernel process, where the platform has one, then starts an ordinary IPython kernel.
An allocation past the limit fails inside the learner's code (MemoryError, or torch's "can't allocate
memory") instead of exhausting the machine. Introduced for instructors (the grader).
"""

from __future__ import annotations

import sys


def limit_memory(megabytes: int) -> bool:
    """Cap this process's address space at `megabytes`; False where the platform cannot."""
    try:
        import resource
    except ImportError:  # not on Windows
        return False
    limit = megabytes * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        return False
    return True


def main(argv: list[str]) -> None:
    if argv[:1] == ["--memory-mb"]:
        megabytes, argv = int(argv[1]), argv[2:]
        if megabytes > 0:
            limit_memory(megabytes)
    from ipykernel import kernelapp

    kernelapp.launch_new_instance(argv=argv)


if __name__ == "__main__":
    main(sys.argv[1:])
