from workfeed.cli import main

main()
