"""E-mail alerts: composing (change alerts, digests, health), the outbox, sending over SMTP."""
