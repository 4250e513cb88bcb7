"""What a user gets back for a job: the summary block, the files in their format, resending."""
