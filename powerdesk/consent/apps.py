from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "powerdesk.consent"
    label = "consent"
    verbose_name = "营销订阅与退订"

    def ready(self) -> None:
        from powerdesk.consent import events  # noqa: F401  (declares this app's event kinds)
        from powerdesk.consent.addresses import ADDRESS_CONTEXT
        from powerdesk.privacy.rotation import SealedColumn, register_sealed_column

        register_sealed_column(
            SealedColumn("consent.ChannelConsent", "address_key_id", "address_ciphertext", ADDRESS_CONTEXT)
        )
