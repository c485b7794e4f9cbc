"""Project-wide pytest fixtures: the standing personas and test isolation in powerdesk/core/testing.py."""

pytest_plugins = ["powerdesk.core.testing"]
