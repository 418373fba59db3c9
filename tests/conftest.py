"""Suite-wide settings.

Property tests explore new random inputs on every developer run; under CI (the CI variable
set) they are derandomized, as Hypothesis recommends, so a landing is decided by the code and
not by the draw. A failure found locally prints its reproduction blob.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
