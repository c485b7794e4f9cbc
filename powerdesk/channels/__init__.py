"""Channel adapters. Each channel is a sub-package with the same files (protocol, inbound,
outbound, fake server). The package is not named ``channels`` as a Django app label: Django
Channels owns that label, so each adapter app carries a ``channel_<kind>`` label instead."""
