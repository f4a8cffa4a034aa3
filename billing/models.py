"""Billing models: added by their own issue."""
