"""Workers: the taskiq broker, the job runner, and the reaper that rescues stuck jobs."""
