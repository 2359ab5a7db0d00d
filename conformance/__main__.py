"""`python -m conformance`: the conformance command."""

import sys

from conformance.suite.cli import main

sys.exit(main())
