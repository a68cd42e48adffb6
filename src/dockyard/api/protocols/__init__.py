"""One parser and one serializer per AWS protocol family, driven by botocore shapes."""
