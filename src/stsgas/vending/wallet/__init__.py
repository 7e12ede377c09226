"""Customer wallets: prepaid money a customer holds, topped up by payments and spent on gas."""
