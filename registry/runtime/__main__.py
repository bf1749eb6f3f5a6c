"""`python -m registry.runtime`: see registry.runtime.server."""

import sys

from registry.runtime.server import main

sys.exit(main())
