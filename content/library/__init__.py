"""The content library: loading, checking and reporting on the YAML in content/data/."""
