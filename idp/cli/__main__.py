"""``python -m idp.cli``: how the testbed and the demo start ``ncconnect serve``."""

from . import main

main()
