from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "powerdesk.customers"
    label = "customers"
    verbose_name = "客户信息库"

    def ready(self) -> None:
        from powerdesk.customers import events  # noqa: F401  (declares this app's event kinds)
        from powerdesk.customers.pii import ID_CARD_CONTEXT
        from powerdesk.privacy.rotation import SealedColumn, register_sealed_column

        register_sealed_column(
            SealedColumn(
                "customers.Account", "holder_id_card_key_id", "holder_id_card_ciphertext", ID_CARD_CONTEXT
            )
        )
