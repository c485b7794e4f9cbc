import pytest


@pytest.fixture(autouse=True)
def _no_sms_simulator_child(settings):
    """The demo's SMS simulator child is pinned on its own (test_sms_simulator.py); the other
    supervisor tests list the children they are about without it."""
    settings.DEMO_SMS_RATE_PER_MINUTE = 0
