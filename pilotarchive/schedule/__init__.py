"""Scheduled runs: the configuration file, one run of a target, the run log, the cron loop."""
