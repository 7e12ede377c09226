"""SMS self-service: a gateway webhook in, replies out through an :class:`SmsGateway`.

See ``docs/sms.md`` for the commands, the gateway contract, idempotency and limits.
"""
