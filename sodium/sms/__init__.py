"""Text messages on the outbox: numbers, segments, backends and the provider's callback.

`sodium.sms.messages.queue_sms` writes an `OutboundMessage` with channel sms; the outbox's
`deliver` hands it to the backend `SODIUM_SMS_BACKEND` names (`sodium.sms.backends`).
"""
