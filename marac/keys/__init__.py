"""Data-encryption and blind-index keys, stored wrapped by the key-encryption key."""
