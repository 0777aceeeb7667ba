"""Intake service: applications at service centres and desks, receipts, refusal receipts, hand-over."""
