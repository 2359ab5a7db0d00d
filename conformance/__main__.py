"""`python -m conformance`: the conformance command."""

import sys

from conformance.suite.entry import main

sys.exit(main())
