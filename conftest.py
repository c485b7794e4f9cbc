"""Project-wide pytest fixtures: standing personas (see powerdesk/core/testing.py)."""

from powerdesk.core.testing import *  # noqa: F403
