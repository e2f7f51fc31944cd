"""Payload layer: parse and validate the decoded string (no image knowledge here)."""
from .record import ascii_name, build_payload, mask_date_of_birth, mask_document_number  # noqa: F401
