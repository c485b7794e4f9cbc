"""Alipay life account (支付宝生活号) channel: the application gateway (inbound pushes, RSA2), the
open API client that sends replies (``alipay.open.public.message.custom.send``), the account
model with its sealed private key, and a local fake of Alipay's open platform gateway.

See docs/alipay-life.md.
"""
