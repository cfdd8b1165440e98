"""Exercise checks: run the learner's code on several cases and say, in one sentence, what is wrong.

A check takes the learner's function (or answer) and either prints "✔ <name>: ...", prints
"○ <name>: not attempted yet ..." while the function still raises NotImplementedError (so learner
notebooks run clean), or raises CheckFailed, whose notebook display is one sentence, not a traceback.
Checks return a CheckResult, so the grader can use them too. One module per lesson; lessons call them
as `checks.<exercise>(answer)`.
"""

from . import lesson01, lesson02, lesson03, lesson04, lesson05, lesson06, lesson07, lesson08, lesson09, lesson10
from .core import CheckFailed as CheckFailed  # re-exported
from .core import CheckResult as CheckResult
from .lesson01 import *  # each lesson module lists its checks in __all__
from .lesson02 import *
from .lesson03 import *
from .lesson04 import *
from .lesson05 import *
from .lesson06 import *
from .lesson07 import *
from .lesson08 import *
from .lesson09 import *
from .lesson10 import *

LESSONS = {1: lesson01, 2: lesson02, 3: lesson03, 4: lesson04, 5: lesson05, 6: lesson06, 7: lesson07, 8: lesson08,
           9: lesson09, 10: lesson10}  # lesson number -> the module of its checks
