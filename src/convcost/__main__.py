from convcost.entry import main

main()
