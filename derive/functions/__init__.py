"""The functions: each module takes the notation and gives FUNCTION, a definition and nothing derived."""
