"""Key custody (V3): vending keys live only inside a :class:`SecurityModule`."""
