"""A user's journal as JSON lines (export, import) and database backups."""
