"""The AWS wire: routing, SigV4, protocol parsers and serializers, AWS-shaped errors."""
