"""WeChat Official Account outbound API: the client, its database token cache and call log, and a
local fake of ``api.weixin.qq.com`` / ``open.weixin.qq.com`` for tests and the demo.

The inbound callback protocol (signatures, safe-mode AES, XML) lives in ``channels.wechat``; this
package only talks *to* WeChat. See docs/wechat-api.md.
"""
