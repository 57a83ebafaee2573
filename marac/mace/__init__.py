"""MACE in depth: 12-weekly risk reviews with their disruption plans, and the registers of persons and locations of concern."""
