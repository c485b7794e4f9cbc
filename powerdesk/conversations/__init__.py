"""The channel-neutral conversation engine: ``InboundMessage`` → intent → domain service → ``Reply``.

Channels (WeChat, later Alipay and SMS) are thin adapters: they verify and parse their protocol,
build an ``InboundMessage`` and call ``engine.handle_inbound``. See docs/conversations.md.
"""
