from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "powerdesk.conversations"
    label = "conversations"
    verbose_name = "会话引擎"

    def ready(self) -> None:
        from powerdesk.conversations import events  # noqa: F401  (declares this app's event kinds)
