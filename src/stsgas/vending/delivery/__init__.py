"""Tokens by SMS after every sale, for customers who opted in (``customers.sms_tokens``)."""
