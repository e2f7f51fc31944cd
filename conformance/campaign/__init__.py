"""Campaigns: several candidate apps assessed for the same test accounts, and the cross-candidate requirement
GEN-003 (every platform shows a person the same code).

load.py     the campaign file (specs/campaign.schema.json): subjects (the truth), candidates (packages, live configs)
run.py      capture, assess every candidate on one executor (local process pool or Dask), GEN-003, campaign.json
report.py   junit.xml, dashboard.html
cli.py      `vnqr-conformance campaign CAMPAIGN --out DIR`
frontend.py `pytest conformance --campaign FILE`
"""
from conformance.campaign.load import Campaign, CampaignError, CandidateSource, load_campaign

__all__ = ["Campaign", "CampaignError", "CandidateSource", "load_campaign"]
