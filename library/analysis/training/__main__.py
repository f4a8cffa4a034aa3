from library.analysis.training.train import main

main()
