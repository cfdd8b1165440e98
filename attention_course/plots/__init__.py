"""The figures the lessons and widgets draw, one module per lesson; each function returns its Figure.

    common.py       colour maps, text contrast, heatmap axes and colour bars that every lesson's figures share
    lesson01.py ... lesson10.py   each lesson's figures (lesson 4's positional widget view, lesson 9's date maps, ...)

Lessons call them as `plots.<function>(...)`.
"""

from .common import *  # each module lists its names in __all__
from .lesson01 import *
from .lesson02 import *
from .lesson03 import *
from .lesson04 import *
from .lesson05 import *
from .lesson06 import *
from .lesson07 import *
from .lesson08 import *
from .lesson09 import *
from .lesson10 import *
