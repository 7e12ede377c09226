"""Scheduled and retried work: the daily integrity check, key-expiry warnings, SMS replies.

The job functions (:mod:`.work`) are plain functions on a sessionmaker. Two
runners call them:

* PostgreSQL: the procrastinate job queue (:mod:`.queue`); ``stsgas worker``
  runs the jobs, with retries, and failed jobs stay listed in the queue's table;
* SQLite: a thread in the server (:mod:`.local`), with the same functions,
  retries and list of failed jobs, kept in memory.

:mod:`.wiring` puts the right runner on ``app.state.jobs``, starts it with the
app, adds ``GET /api/v1/jobs/failed`` and makes a failed SMS reply a retried job.
"""
