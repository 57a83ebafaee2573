"""MARAC-to-MARAC transfers (a case sent to another area with its transfer packet, or received from
one) and one family seen across panels (the same person named in cases of other panels)."""
