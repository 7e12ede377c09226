"""Credit policies at the counter: free basic gas, emergency credit, debt instalments."""
