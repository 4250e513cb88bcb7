-- Users' preferences and the Telegram file ids of sent results. Keep in step with
-- 005_user_prefs.postgres.sql.
-- language: the user's explicit /language choice (NULL: follow language_code).
-- language_code: Telegram's language_code as last seen, so a worker can speak the user's language.
-- output_format: csv, csv_excel or xlsx (NULL: the default for the user's language).
ALTER TABLE users ADD COLUMN language TEXT;
ALTER TABLE users ADD COLUMN language_code TEXT;
ALTER TABLE users ADD COLUMN output_format TEXT;
-- file_id of the cleaned and profile documents once sent: /job sends them again by file_id,
-- without a download from storage.
ALTER TABLE jobs ADD COLUMN cleaned_file_id TEXT;
ALTER TABLE jobs ADD COLUMN profile_file_id TEXT;
