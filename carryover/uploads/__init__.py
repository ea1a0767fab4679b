"""Uploaded files in shared storage (issue 14.2): in the database by default, in an
S3-compatible bucket when `UPLOADS_S3_BUCKET` is set. A worker gets an upload by its
id, never by a path; a file is purged `UPLOADS_RETENTION_DAYS` after its job is done."""
