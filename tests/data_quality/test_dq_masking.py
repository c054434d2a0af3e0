"""Masking of personal data in failing-row samples."""

from __future__ import annotations

from data_quality.masking import mask_row


def test_personal_fields_are_masked_and_the_rest_kept():
    row = mask_row(
        {
            "entity_id": 12,
            "email": "Marie.Dupont@Gmail.com",
            "billing_address__telephone": "06 12 34 56 78",
            "phone": 612345678,
            "first_name": "Marie",
            "requester_name": "DUPONT Marie",
            "street": "12 rue de la Paix",
            "dob": "1985-03-12",
            "event_name": "Vente privée",
            "grand_total": -10.0,
            "raw_record": '{"email": "jean.martin@example.com", "tel": "+33 6 98 76 54 32"}',
        }
    )
    assert row == {
        "entity_id": 12,
        "email": "M***@Gmail.com",
        "billing_address__telephone": "********78",
        "phone": "*******78",
        "first_name": "M***",
        "requester_name": "D***",
        "street": "1***",
        "dob": "1***",
        "event_name": "Vente privée",
        "grand_total": -10.0,
        "raw_record": '{"email": "j***@example.com", "tel": "+*********32"}',
    }
