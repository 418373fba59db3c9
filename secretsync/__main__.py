from secretsync.cli import run

run()
