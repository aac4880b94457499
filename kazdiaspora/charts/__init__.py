"""Chart modules: each registers its chapter's figures with :func:`kazdiaspora.figures.register`."""
