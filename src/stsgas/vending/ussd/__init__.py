"""The USSD channel: a session menu (balance, buy, last tokens) on the gateway's callback."""
