"""Interactive widgets (ipywidgets 8), one module per lesson. Each is a function that returns a layout.

The work happens in a plain function that lives with the concept it shows (such as `lookup.lookup_state` or
`masking.mask_state`), which the tests and the exercises call directly; the widget only reads its controls,
calls that function, and shows the answer. Tests drive a widget headless by setting
`widget.controls[name].value` and reading `widget.summary.value`.

    common.py       laying out controls, a summary line and a plot, and redrawing on every change
    lesson01.py ... lesson10.py   each lesson's widget (lesson 5's mask_explorer, lesson 9's date_explorer, ...)
"""

from .lesson01 import *  # each module lists its widget in __all__
from .lesson02 import *
from .lesson03 import *
from .lesson04 import *
from .lesson05 import *
from .lesson06 import *
from .lesson07 import *
from .lesson08 import *
from .lesson09 import *
from .lesson10 import *
