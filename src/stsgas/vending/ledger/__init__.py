"""The double-entry ledger (V5): balanced journals and the trial balance."""
