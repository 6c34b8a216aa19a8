from nvpolicy.cli import main

main()
