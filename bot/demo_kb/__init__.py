"""Demo knowledge base: known errors as Markdown with YAML front matter (``destek kb import``)."""
