"""Payload layer: parse and validate the decoded string (no image knowledge here)."""
from conformance.rules.masking import mask_date_of_birth, mask_document_number

from .parse import ParsedPayload, parse_payload
from .record import ascii_name, build_payload, compare_to_record
from .validate import PayloadReport, validate_payload

__all__ = ["ParsedPayload", "PayloadReport", "parse_payload", "validate_payload", "compare_to_record",
           "ascii_name", "build_payload", "mask_date_of_birth", "mask_document_number"]
