"""Privacy domain: data-subject requests (GDPR art. 15 access, art. 17 erasure), the
suppression list, and the masking that keeps personal data out of logs and stores.

Requests are recorded in `privacy.requests` with salted hashes of the subject's identifiers
(never the values), taken from `cdp privacy` and from `<landing>/privacy_requests/*.csv`, and
processed by the `privacy_requests` Dagster asset. docs/privacy.md describes the whole.
"""
