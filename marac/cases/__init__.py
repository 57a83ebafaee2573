"""Referrals and cases for the three panels: referral forms, screening, repeat detection, lists, search."""
