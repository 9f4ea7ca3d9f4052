"""Shared test settings: hypothesis profiles and where the test helpers live."""

import os
import sys

from hypothesis import settings

sys.path.insert(0, os.path.dirname(__file__))  # so tests can `import peers`

# "ci" is thorough but bounded; "dev" (the default) is quick.  Both are deterministic
# (derandomize) so a failure in CI is a failure on your machine too.
settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=40, deadline=None, derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
