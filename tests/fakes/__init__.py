"""Small real HTTP servers standing in for the platforms' APIs in tests."""
