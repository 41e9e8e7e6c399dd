"""Images attached to a trade, a journal day or a playbook (docs/attachments.md)."""
