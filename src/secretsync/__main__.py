from secretsync.cli import main

main()
