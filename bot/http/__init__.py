"""HTTP-level pieces every route shares: JSON bodies, errors, the host check, the door summary."""
