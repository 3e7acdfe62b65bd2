"""Hide the access tokens that emails sent before tokens were derived hold in clear.

Emails are now stored with a placeholder where a link's token goes (portal.access). Bodies
and tracking events written before hold the tokens themselves, and a token opens the portal:
they read `[hidden]` from now on. Messages still waiting to be sent keep theirs, or their
links would not work.
"""

import re

from django.db import migrations

# As sodium.outbox.hide_tokens (a migration must not import code that may change).
_TOKEN = re.compile(r"(?<=[/=])[A-Za-z0-9_-]{40,}(?=[/?#&]|$|[^A-Za-z0-9_-])")
_WAITING = ("queued", "sending")


def hide_tokens(apps, schema_editor):
    OutboundMessage = apps.get_model("sodium", "OutboundMessage")
    MessageEvent = apps.get_model("sodium", "MessageEvent")
    sent = OutboundMessage._base_manager.exclude(status__in=_WAITING).filter(
        body_text__contains="/portal/"
    )
    for message in sent.only("pk", "body_text", "body_html").iterator():
        text = _TOKEN.sub("[hidden]", message.body_text)
        html = _TOKEN.sub("[hidden]", message.body_html)
        if (text, html) != (message.body_text, message.body_html):
            OutboundMessage._base_manager.filter(pk=message.pk).update(
                body_text=text, body_html=html
            )
    for event in (
        MessageEvent._base_manager.filter(detail__contains="/portal/").only("pk", "detail")
    ).iterator():
        detail = _TOKEN.sub("[hidden]", event.detail)
        if detail != event.detail:
            MessageEvent._base_manager.filter(pk=event.pk).update(detail=detail)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0003_accesstoken_nonce"),
        ("sodium", "0004_practice_index_covered_by_composites"),
    ]

    operations = [migrations.RunPython(hide_tokens, migrations.RunPython.noop)]
