"""Pages that belong to no single app's domain: the API keys page."""
