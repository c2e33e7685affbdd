"""Front doors: each translates one platform to and from the neutral model."""
