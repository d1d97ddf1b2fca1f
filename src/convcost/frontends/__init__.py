"""Front ends: each turns what the user wrote into the same ``Network``."""
