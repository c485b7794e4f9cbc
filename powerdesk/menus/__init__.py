"""The WeChat Official Account custom menu (自定义菜单): a draft per account, checked against
WeChat's limits, previewed, published through ``menu/create`` with a history (docs/menus.md)."""
