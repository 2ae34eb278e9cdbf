"""The directory service: the one writer of hotline.directory.v1 (see README.md)."""
