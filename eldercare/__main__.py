from eldercare.cli import main

main()
