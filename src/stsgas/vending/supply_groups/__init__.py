"""Supply groups: SGC, key revision, algorithms and the (wrapped) vending key."""
