"""Task definitions: registration, revisions, validation, container options."""
