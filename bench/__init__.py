"""secbot's benchmarks: each part measures the real app against a baseline in the same run."""
