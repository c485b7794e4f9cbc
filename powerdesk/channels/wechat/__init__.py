"""WeChat Official Account (微信公众号) channel.

``protocol`` is the message layer (XML in and out, signatures, safe-mode AES) as pure functions;
it needs no Django app, so this package is not in ``INSTALLED_APPS`` (and has no models).
"""
