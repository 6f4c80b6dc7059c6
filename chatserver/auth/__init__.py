"""Auth: the Cognito part (accounts, codes, passwords, RS256 tokens). Never sees a request object."""
