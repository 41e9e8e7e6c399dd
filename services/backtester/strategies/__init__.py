"""Built-in strategies; each module registers its class on import."""
