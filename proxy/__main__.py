from proxy.server import main

main()
