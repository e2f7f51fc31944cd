"""The rules of Decision 1405 v1.1 that several layers apply, each written once.

- fields.py  : the payload's field table (names in code, in the decision, labels in both languages, separators)
- masking.py : DISPLAY-001/002, which characters the default display mode replaces with '*'

The payload format rules (PAYLOAD-*) are in conformance/payload/validate.py, the comparison with the registered
record (GEN-002) in conformance/payload/record.py. Nothing here imports another layer of the suite.
"""
