"""Uploaded images (the S3 part): a storage interface, its local-directory implementation, URL signing, the service."""
