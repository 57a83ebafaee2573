"""Panels (MARAC, MACE, ASB taskforce), their member agencies and the roles users hold on them."""
