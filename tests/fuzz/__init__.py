"""A differential fuzzer of mytensor against PyTorch (see README.md)."""
