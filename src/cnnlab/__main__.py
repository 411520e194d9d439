"""``python -m cnnlab`` runs the CLI."""
from cnnlab.cli.app import run

run()
