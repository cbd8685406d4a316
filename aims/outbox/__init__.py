"""The transactional outbox: tasks the web tier starts are written next to the rows they concern."""
