"""APScheduler 3 setup and the jobs it runs; jobs only write outbox rows, the sender sends."""
