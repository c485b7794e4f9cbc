"""Online payments: orders, gateway adapters (Alipay, WeChat Pay v3), exactly-once crediting,
suspense for notifications that cannot be credited, refunds, and a local sandbox gateway."""
