"""One dlt source package per source system; see docs/ingestion.md and docs/data_contract.md."""
