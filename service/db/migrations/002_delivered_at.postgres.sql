-- When the worker finished telling the user about a done job (result documents sent). A done job
-- without it had its worker die between recording the result and sending it: a redelivered task
-- sends the result instead of doing nothing.
ALTER TABLE jobs ADD COLUMN delivered_at TIMESTAMPTZ;
