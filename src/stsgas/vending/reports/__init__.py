"""Reports: daily sales by channel and vendor, meter history, reconciliation (V5)."""
