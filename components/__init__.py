"""One ComponentResource per concern; each takes its validated config model."""
