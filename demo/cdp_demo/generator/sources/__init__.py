"""One writer module per source system of the demo retailer."""
