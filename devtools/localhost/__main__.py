from devtools.localhost.host import main

main()
