"""Users' control over their jobs and data: cancelling, deleting everything, retention."""
