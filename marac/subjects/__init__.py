"""Subject access and rectification: the request log, finding a person across panels, the response
(one redacted PDF and JSON of everything held about them) and correcting their details."""
