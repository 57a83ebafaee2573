"""Emails that tell people something needs them: a sentence without personal data and a link that
requires sign-in, sent after the commit by a background job over SMTP (or to the log in development)."""
