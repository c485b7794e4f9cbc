from django.apps import AppConfig


class SmsChannelConfig(AppConfig):
    name = "powerdesk.channels.sms"
    label = "channel_sms"
    verbose_name = "短信渠道"

    def ready(self) -> None:
        from powerdesk.channels.sms import checks  # noqa: F401  (registers the system checks)

        business_hall_register()


def business_hall_register() -> None:
    """Plug the SMS business hall into the conversation engine (idempotent): its command parser
    and help text (engine step 3), and its reply sender for deferred replies."""
    from powerdesk.channels.sms.commands import help_text, parse_message
    from powerdesk.conversations import services as conversation_services
    from powerdesk.conversations.engine import command_parser_register
    from powerdesk.events.choices import Channel

    command_parser_register(Channel.SMS, parse_message, menu=help_text)
    # The engine finds a channel's sender by dotted path (it never imports channel packages).
    conversation_services.REPLY_SENDERS[Channel.SMS] = "powerdesk.channels.sms.replies.reply_send"
